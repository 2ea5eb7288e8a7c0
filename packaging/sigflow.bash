# bash completion for sigflow (installed by `make install`). The commands and options are
# read from `sigflow --help` and `sigflow COMMAND --help`, so they follow the binary.
_sigflow() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$(sigflow --help 2>/dev/null | awk '/^  [a-z]/ {print $1}')" -- "$cur"))
        return
    fi
    case $prev in
    -c | --config) COMPREPLY=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur")); return ;;
    --dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(sigflow "${COMP_WORDS[1]}" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _sigflow sigflow

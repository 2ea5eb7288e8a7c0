"""doc_refs.py ROOT SIGFLOW [DOC...]: every `sigflow COMMAND` a doc's code names is a command
of `sigflow --help`, every --option after it is in `sigflow COMMAND --help`, every
`make TARGET` is a target of the Makefile (or of an SDK example's), and every repository path
(docs/, conf/, core/, tests/, packaging/, plugins/, sdk/, debian/, .ci/) exists. Patterns,
placeholders (NAME, <dir>), build outputs (*.so) and files the doc's own commands write
(`> FILE`) are not paths to check. Prints each problem; exit 1 if any. DOCs default to
README.md and docs/*.md. Used by tests/integration/test_docs_refs.sh."""
import re, sys, os, subprocess, glob
root, sigflow = sys.argv[1], sys.argv[2]
docs = sys.argv[3:] or [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
helptext = subprocess.run([sigflow, "--help"], capture_output=True, text=True).stdout
cmds = set(re.findall(r"^  ([a-z]+)\b", helptext, re.M))
targets = set()
for mk in [os.path.join(root, "Makefile")] + glob.glob(os.path.join(root, "sdk", "examples", "*", "Makefile")):
    targets |= set(re.findall(r"^([a-z][a-z-]*):", open(mk).read(), re.M))
opt_cache = {}
def opts(cmd):
    if cmd not in opt_cache:
        r = subprocess.run([sigflow, cmd, "--help"], capture_output=True, text=True)
        opt_cache[cmd] = set(re.findall(r"--[a-z][a-z-]*", r.stdout + r.stderr))
    return opt_cache[cmd]
bad = []
for d in docs:
    text = open(d).read()
    rel = os.path.relpath(d, root)
    made = set(re.findall(r">\s*([\w./-]+)", text))  # files the doc's own commands write
    # code: fenced blocks, indented blocks, inline spans
    code = re.findall(r"```.*?```", text, re.S) + re.findall(r"`([^`\n]+)`", text) + \
        re.findall(r"^(?: {4}|\t)(.+)$", text, re.M)
    for c in code:
        for line in c.splitlines():
            for m in re.finditer(r"(?:^|[;&|(]\s*|\$\s+)(?:[\w./-]*/)?sigflow ([a-z][a-z-]*)((?:[^|>;&#]|&&)*)", line.strip()):
                cmd, rest = m.group(1), m.group(2).split("&&")[0]
                if cmd not in cmds:
                    bad.append("%s: `sigflow %s`: no such command (%s)" % (rel, cmd, line.strip()))
                    continue
                for o in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest):
                    if o not in opts(cmd):
                        bad.append("%s: `sigflow %s %s`: no such option (%s)" % (rel, cmd, o, line.strip()))
            for m in re.finditer(r"(?:^|[\s;&|])make ([a-z][a-z-]*)", line):
                if m.group(1) not in targets:
                    bad.append("%s: `make %s`: no such target (%s)" % (rel, m.group(1), line.strip()))
    # repo paths anywhere in the text
    for m in re.finditer(r"(?<![\w/.-])((?:docs|conf|core|tests|packaging|plugins|sdk|debian|\.ci)/[A-Za-z0-9_.*/<>-]*[A-Za-z0-9_*>])", text):
        p = m.group(1)
        if re.search(r"[*<>]|[A-Z]{3,}", p) or p in made or p.endswith(".so"):
            continue  # a pattern, a placeholder (plugins/<dir>, NAME), made by the doc, a build output
        if not os.path.exists(os.path.join(root, p)):
            bad.append("%s: %s does not exist" % (rel, p))
for b in sorted(set(bad)):
    print(b)
sys.exit(1 if bad else 0)

/* main.c - placeholder until the CLI lands; dispatches `replay` (scoring branch). */
#include <stdio.h>
#include <string.h>

#include "replay.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "replay") == 0)
        return replay_main(argc - 1, argv + 1);
    puts("sigflow");
    return 0;
}

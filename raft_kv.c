/* raft_kv.c - main: configuration -> spawn -> run -> summary. (placeholder until issue 3) */
#include <stdio.h>

int main(void)
{
    puts("raft_kv: not yet");
    return 0;
}

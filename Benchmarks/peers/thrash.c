/* A stand-in for a busy neighbour on a shared host: streams through a buffer of MIB mebibytes, reading one value per
 * 64-byte cache line, forever, so that it keeps evicting other programs' data from the shared L3.
 *
 * With 24 MiB on the other core, NeuralCore's 2048³ GEMM on one thread ran 8–13 % slower and PyTorch's (OpenBLAS)
 * 0–2 %: the same pattern as the host's own busy phases, but on demand. Session 9's next-B-sliver prefetch brought
 * NeuralCore's loss down to about 1 %.
 *
 *   gcc -O2 -o /tmp/thrash Benchmarks/peers/thrash.c
 *   taskset -c 1 /tmp/thrash 24 &      # then measure pinned to CPU 0 (taskset -c 0 ...), and kill it afterwards
 *
 * Benchmarks/peers/alternate.sh does this itself when THRASH_MIB is set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 0;
    if (mib <= 0 || mib > 4096)
    {
        fprintf(stderr, "usage: thrash MIB (1 to 4096): stream through MIB mebibytes forever\n");
        return 2;
    }
    size_t words = (size_t)mib * 1024 * 1024 / sizeof(uint64_t);
    volatile uint64_t *buffer = malloc(words * sizeof(uint64_t));
    if (buffer == NULL)
    {
        fprintf(stderr, "thrash: cannot allocate %ld MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < words; i++)
    {
        buffer[i] = i;
    }
    uint64_t sum = 0;
    for (;;)
    {
        for (size_t i = 0; i < words; i += 8) /* one word per 64-byte line */
        {
            sum += buffer[i];
        }
    }
}

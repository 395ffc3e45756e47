#!/bin/sh
# What one small nftables transaction costs on a table shaped like netpol's
# (a hash set of N pod addresses used by 10 chains, the ingress verdict map
# with N addresses jumping to those chains), for N = each SIZE given
# (default 1000 10000 100000), in a network namespace of its own per size:
#   add      add one element to the set
#   delete   delete one element from the set
#   pod-gone delete one element from the set and the pod's map binding
#   bind     add one binding (address : jump chain) to the map
#   mixed    delete one and add one element, delete one binding and add one
# each timed three ways (median of RUNS, default 20, each after an untimed
# step that puts the table back):
#   nft      the command, `nft -f FILE` (hyperfine, process start included)
#   ctx/tx   libnftables, a new context (and netlink socket) per transaction
#   kept     libnftables, one context kept open for all transactions (netpol)
# The kernel makes closing a netfilter socket wait for the objects deleted
# through it to be freed (an RCU grace period): `nft` and ctx/tx pay that for
# every transaction that deletes, kept does not.
# Needs root, nft, hyperfine, a C compiler and libnftables.so.1.
# Usage: scripts/nft-element-cost.sh [SIZE...]
set -eu
runs=${RUNS:-20}
work=$(mktemp -d /tmp/netpol-nft-cost-XXXXXX)
namespace=
cleanup() {
  if [ -n "$namespace" ]; then ip netns delete "$namespace" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/harness.c" <<'EOF'
/* Median milliseconds of RUNS runs of SCRIPT through libnftables, each after
   PREPARE (untimed, on a context of its own). fresh: a context per run, its
   creation and freeing timed; kept: one context for every run. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
struct nft_ctx;
static struct nft_ctx *(*ctx_new)(uint32_t);
static void (*ctx_free)(struct nft_ctx *);
static int (*run_buffer)(struct nft_ctx *, const char *);
static int (*buffer_error)(struct nft_ctx *);
static const char *(*error_buffer)(struct nft_ctx *);
static char *slurp(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) { perror(path); exit(2); }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    rewind(file);
    char *text = calloc(size + 1, 1);
    if (fread(text, 1, size, file) != (size_t)size) { perror(path); exit(2); }
    fclose(file);
    return text;
}
static struct nft_ctx *open_context(void) {
    struct nft_ctx *context = ctx_new(0);
    buffer_error(context);
    return context;
}
static void run(struct nft_ctx *context, const char *script) {
    if (run_buffer(context, script) != 0) { fprintf(stderr, "nft refused: %s\n", error_buffer(context)); exit(1); }
}
static double now(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return time.tv_sec * 1e3 + time.tv_nsec / 1e6;
}
static int ascending(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s fresh|kept SCRIPT PREPARE RUNS\n", argv[0]); return 2; }
    void *library = dlopen("libnftables.so.1", RTLD_NOW);
    if (!library) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    ctx_new = dlsym(library, "nft_ctx_new");
    ctx_free = dlsym(library, "nft_ctx_free");
    run_buffer = dlsym(library, "nft_run_cmd_from_buffer");
    buffer_error = dlsym(library, "nft_ctx_buffer_error");
    error_buffer = dlsym(library, "nft_ctx_get_error_buffer");
    int kept = argv[1][0] == 'k', runs = atoi(argv[4]);
    char *script = slurp(argv[2]), *prepare = slurp(argv[3]);
    double *times = calloc(runs, sizeof(double));
    struct nft_ctx *context = kept ? open_context() : NULL;
    for (int i = 0; i < runs; i++) {
        struct nft_ctx *preparing = open_context();
        run(preparing, prepare);
        ctx_free(preparing);
        double start = now();
        struct nft_ctx *used = kept ? context : open_context();
        run(used, script);
        if (!kept) ctx_free(used);
        times[i] = now() - start;
    }
    qsort(times, runs, sizeof(double), ascending);
    printf("%.2f\n", times[runs / 2]);
    return 0;
}
EOF
cc -O2 -o "$work/harness" "$work/harness.c" -ldl

# The table: set peers with N addresses 10.x.y.z, map ingress-pods-v4 binding the same addresses.
table() {
  awk -v n="$1" 'function address(i) { return sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256) }
  BEGIN {
    print "add table inet netpol\ndelete table inet netpol\ntable inet netpol {"
    print "\tset peers {\n\t\ttype ipv4_addr\n\t\telements = {"
    for (i = 0; i < n; i++) print "\t\t\t" address(i) ","
    print "\t\t}\n\t}"
    for (c = 0; c < 10; c++) print "\tchain rules-" c " {\n\t\tip saddr @peers meta l4proto tcp th dport 80 accept\n\t\tdrop\n\t}"
    print "\tmap ingress-pods-v4 {\n\t\ttype ipv4_addr : verdict\n\t\telements = {"
    for (i = 0; i < n; i++) print "\t\t\t" address(i) " : jump rules-" (i % 10) ","
    print "\t\t}\n\t}"
    print "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tct state established,related accept\n\t\tip daddr vmap @ingress-pods-v4\n\t}\n}"
  }'
}

# Each case: the script timed, then the script that puts the table back before it.
new=10.200.0.1
old=10.0.0.5
set_prefix="element inet netpol peers"
map_prefix="element inet netpol ingress-pods-v4"
printf 'add %s { %s }\n' "$set_prefix" "$new" > "$work/add.nft"
printf 'add %s { %s }\ndelete %s { %s }\n' "$set_prefix" "$new" "$set_prefix" "$new" > "$work/add.prepare"
printf 'delete %s { %s }\n' "$set_prefix" "$old" > "$work/delete.nft"
printf 'add %s { %s }\n' "$set_prefix" "$old" > "$work/delete.prepare"
printf 'delete %s { %s }\ndelete %s { %s }\n' "$set_prefix" "$old" "$map_prefix" "$old" > "$work/pod-gone.nft"
printf 'add %s { %s }\nadd %s { %s : jump rules-5 }\n' "$set_prefix" "$old" "$map_prefix" "$old" > "$work/pod-gone.prepare"
printf 'add %s { %s : jump rules-1 }\n' "$map_prefix" "$new" > "$work/bind.nft"
printf 'add %s { %s : jump rules-1 }\ndelete %s { %s }\n' "$map_prefix" "$new" "$map_prefix" "$new" > "$work/bind.prepare"
printf 'delete %s { %s }\nadd %s { %s }\ndelete %s { %s }\nadd %s { %s : jump rules-1 }\n' \
  "$set_prefix" "$old" "$set_prefix" "$new" "$map_prefix" "$old" "$map_prefix" "$new" > "$work/mixed.nft"
printf 'add %s { %s, %s }\nadd %s { %s : jump rules-5, %s : jump rules-1 }\ndelete %s { %s }\ndelete %s { %s }\n' \
  "$set_prefix" "$old" "$new" "$map_prefix" "$old" "$new" "$set_prefix" "$new" "$map_prefix" "$new" > "$work/mixed.prepare"

median_of_hyperfine() {
  sed -n 's/.*"median": *\([0-9.e-]*\).*/\1/p' "$1" | head -n 1 | awk '{ printf "%.2f\n", $1 * 1000 }'
}

echo "| elements | transaction | nft -f (ms) | libnftables, context per transaction (ms) | libnftables, kept context (ms) |"
echo "|---|---|---|---|---|"
for size in ${*:-1000 10000 100000}; do
  namespace=netpol-del-$$-$size
  ip netns add "$namespace"
  table "$size" > "$work/table.nft"
  ip netns exec "$namespace" nft -f "$work/table.nft"
  for case in add delete pod-gone bind mixed; do
    ip netns exec "$namespace" hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/hyperfine.json" \
      --prepare "nft -f $work/$case.prepare" "nft -f $work/$case.nft" > /dev/null 2> "$work/hyperfine.log" ||
      { cat "$work/hyperfine.log" >&2; exit 1; }
    command=$(median_of_hyperfine "$work/hyperfine.json")
    fresh=$(ip netns exec "$namespace" "$work/harness" fresh "$work/$case.nft" "$work/$case.prepare" "$runs")
    kept=$(ip netns exec "$namespace" "$work/harness" kept "$work/$case.nft" "$work/$case.prepare" "$runs")
    echo "| $size | $case | $command | $fresh | $kept |"
  done
  ip netns delete "$namespace"
  namespace=
done

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "CNetpolSystem.h"

// libnftables' public API (nftables/libnftables.h), declared here so that
// building netpol needs no -dev package: the library is opened at run time.
struct nft_ctx;

static struct {
    void *handle;
    struct nft_ctx *(*ctx_new)(uint32_t flags);
    void (*ctx_free)(struct nft_ctx *ctx);
    int (*buffer_output)(struct nft_ctx *ctx);
    int (*buffer_error)(struct nft_ctx *ctx);
    const char *(*output_buffer)(struct nft_ctx *ctx);
    const char *(*error_buffer)(struct nft_ctx *ctx);
    void (*set_dry_run)(struct nft_ctx *ctx, bool dry);
    int (*run_from_buffer)(struct nft_ctx *ctx, const char *buffer);
    unsigned int (*output_get_flags)(struct nft_ctx *ctx);
    void (*output_set_flags)(struct nft_ctx *ctx, unsigned int flags);
} library;

// NFT_CTX_OUTPUT_JSON in libnftables.h: list commands print JSON, as `nft -j`.
static const unsigned int output_json = 1u << 4;

static pthread_once_t loaded = PTHREAD_ONCE_INIT;
// libnftables keeps some global state; one transaction at a time.
static pthread_mutex_t running = PTHREAD_MUTEX_INITIALIZER;

static void load(void) {
    void *handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!handle) return;
    library.ctx_new = dlsym(handle, "nft_ctx_new");
    library.ctx_free = dlsym(handle, "nft_ctx_free");
    library.buffer_output = dlsym(handle, "nft_ctx_buffer_output");
    library.buffer_error = dlsym(handle, "nft_ctx_buffer_error");
    library.output_buffer = dlsym(handle, "nft_ctx_get_output_buffer");
    library.error_buffer = dlsym(handle, "nft_ctx_get_error_buffer");
    library.set_dry_run = dlsym(handle, "nft_ctx_set_dry_run");
    library.run_from_buffer = dlsym(handle, "nft_run_cmd_from_buffer");
    library.output_get_flags = dlsym(handle, "nft_ctx_output_get_flags");
    library.output_set_flags = dlsym(handle, "nft_ctx_output_set_flags");
    if (library.ctx_new && library.ctx_free && library.buffer_output && library.buffer_error && library.output_buffer
        && library.error_buffer && library.set_dry_run && library.run_from_buffer
        && library.output_get_flags && library.output_set_flags) {
        library.handle = handle;
    } else {
        dlclose(handle);
    }
}

int netpol_nftables_available(void) {
    pthread_once(&loaded, load);
    return library.handle != NULL;
}

static char *copy(const char *text) {
    return strdup(text ? text : "");
}

struct nft_ctx *netpol_nftables_open(void) {
    if (!netpol_nftables_available()) return NULL;
    pthread_mutex_lock(&running);
    struct nft_ctx *context = library.ctx_new(0);
    if (context) {
        library.buffer_output(context);
        library.buffer_error(context);
    }
    pthread_mutex_unlock(&running);
    return context;
}

int netpol_nftables_run(struct nft_ctx *context, const char *script, int dry_run, int json, char **output, char **errors) {
    *output = NULL;
    *errors = NULL;
    pthread_mutex_lock(&running);
    library.set_dry_run(context, dry_run != 0);
    unsigned int flags = library.output_get_flags(context) & ~output_json;
    library.output_set_flags(context, json ? flags | output_json : flags);
    int status = library.run_from_buffer(context, script);
    // Reading a buffer also empties it for the next command on this context.
    *output = copy(library.output_buffer(context));
    *errors = copy(library.error_buffer(context));
    pthread_mutex_unlock(&running);
    return status == 0 ? 0 : 1;
}

void netpol_nftables_close(struct nft_ctx *context) {
    pthread_mutex_lock(&running);
    library.ctx_free(context);
    pthread_mutex_unlock(&running);
}

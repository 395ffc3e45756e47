#ifndef CNETPOL_SYSTEM_H
#define CNETPOL_SYSTEM_H

/// Moves the calling thread into the network namespace open at `fd`
/// (setns(2) with CLONE_NEWNET, which Swift's Glibc module does not export).
/// Returns 0, or -1 with errno set.
int netpol_enter_network_namespace(int fd);

/// Whether libnftables (the library behind the nft command) can be opened.
int netpol_nftables_available(void);

/// Runs `script` as `nft -f -` would (`nft -c -f -` when `dry_run`, and with
/// `nft -j`'s JSON output when `json`: for list commands), in this process and
/// the calling thread's network namespace. Returns 0 when nft accepted it, 1
/// when it refused, -1 when libnftables is missing. `output` and `errors`
/// receive what nft printed, to be released with free().
int netpol_nftables_run(const char *script, int dry_run, int json, char **output, char **errors);

#endif

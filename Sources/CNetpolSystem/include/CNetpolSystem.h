#ifndef CNETPOL_SYSTEM_H
#define CNETPOL_SYSTEM_H

/// Moves the calling thread into the network namespace open at `fd`
/// (setns(2) with CLONE_NEWNET, which Swift's Glibc module does not export).
/// Returns 0, or -1 with errno set.
int netpol_enter_network_namespace(int fd);

#endif

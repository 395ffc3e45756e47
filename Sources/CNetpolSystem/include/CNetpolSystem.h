#ifndef CNETPOL_SYSTEM_H
#define CNETPOL_SYSTEM_H

/// Moves the calling thread into the network namespace open at `fd`
/// (setns(2) with CLONE_NEWNET, which Swift's Glibc module does not export).
/// Returns 0, or -1 with errno set.
int netpol_enter_network_namespace(int fd);

/// Whether libnftables (the library behind the nft command) can be opened.
int netpol_nftables_available(void);

/// A libnftables context: nft's parser, its cache of the kernel's objects
/// and one netlink socket, which belongs to the network namespace of the
/// thread that opened it for as long as it is open.
struct nft_ctx;

/// Opens a context in the calling thread's network namespace, with nft's
/// output and errors kept for `netpol_nftables_run` to return. NULL when
/// libnftables is missing or cannot open its socket.
struct nft_ctx *netpol_nftables_open(void);

/// Runs `script` on `context` as `nft -f -` would (`nft -c -f -` when
/// `dry_run`, and with `nft -j`'s JSON output when `json` and `nft -t`'s
/// listing without set elements when `terse`: for list commands), in the
/// context's network namespace. Returns 0 when nft accepted it, 1 when it
/// refused. `output` and `errors` receive what nft printed, to be released
/// with free(). A context runs one command at a time (calls are serialized).
int netpol_nftables_run(struct nft_ctx *context, const char *script, int dry_run, int json, int terse, char **output, char **errors);

/// Closes `context` and its socket. The kernel makes the closing of a socket
/// that committed deletions wait for them to be freed (an RCU grace period).
void netpol_nftables_close(struct nft_ctx *context);

/// One connection the kernel tracks, as ctnetlink reports it. The original
/// tuple is the first packet's (before DNAT); the reply tuple is what replies
/// carry, so its source is the real destination after DNAT. Addresses are in
/// network order (4 bytes used for IPv4), ports in host order (0 for protocols
/// without ports).
struct netpol_ct_flow {
    unsigned char family;
    unsigned char protocol;
    unsigned short zone;
    unsigned char original_source[16];
    unsigned char original_destination[16];
    unsigned char reply_source[16];
    unsigned char reply_destination[16];
    unsigned short original_source_port;
    unsigned short original_destination_port;
    unsigned short reply_source_port;
    unsigned short reply_destination_port;
    /// The kernel's id of the entry (CTA_ID), sent back with a delete.
    unsigned int id;
    unsigned char has_id;
    /// A connection a helper opened for another (it has a master tuple).
    unsigned char related;
    /// The original tuple's attributes as the kernel sent them: what a delete sends back.
    unsigned short original_tuple_length;
    unsigned char original_tuple[160];
};

/// Judges a tracked connection: 1 allowed, 0 denied, -1 not the judge's to
/// judge (not counted as examined).
typedef int (*netpol_ct_judge)(const struct netpol_ct_flow *flow, void *context);

/// Reads the connections tracked in the calling thread's network namespace
/// one by one, hands each to `judge`, and keeps only the denied ones, in
/// `*denied` (`*denied_count` of them, to be released with free()): memory in
/// proportion to what is cut, not to the table. Returns how many the judge
/// examined; -1 with errno set when ctnetlink cannot be read.
long netpol_conntrack_judge(netpol_ct_judge judge, void *context, struct netpol_ct_flow **denied, long *denied_count);

/// Deletes the tracked connections `flows` (by original tuple and zone) in the
/// calling thread's network namespace. Returns how many the kernel deleted
/// (one already gone is not counted), or -1 with errno set.
long netpol_conntrack_delete(const struct netpol_ct_flow *flows, long count);

/// One packet the kernel logged to an NFLOG group (nft `log group N`,
/// iptables `-j NFLOG`): its log prefix and the first bytes of its headers.
struct netpol_log_record {
    char prefix[128];
    /// 4 or 6.
    unsigned char family;
    /// IPPROTO_TCP, IPPROTO_UDP, ...
    unsigned char protocol;
    unsigned char source[16];
    unsigned char destination[16];
    /// Zero for a protocol without ports.
    unsigned short source_port;
    unsigned short destination_port;
};

/// Opens a netlink socket in the calling thread's network namespace bound to
/// NFLOG `group`, copying the first 128 bytes of each packet, one packet per
/// message; `receive_buffer` bytes of socket buffer (0: the default). Returns
/// the descriptor, or -1 with errno set (EPERM: another socket holds the
/// group, or the caller lacks CAP_NET_ADMIN).
int netpol_nflog_open(unsigned short group, int receive_buffer);

/// Waits up to `timeout_ms` for logged packets and reads what one receive
/// holds, at most `capacity` records. Returns how many, 0 on timeout, or -1
/// with errno set. When the kernel dropped messages for want of buffer room
/// (ENOBUFS), adds one to `*overruns` and returns 0.
long netpol_nflog_read(int fd, struct netpol_log_record *records, long capacity, int timeout_ms, long *overruns);

/// How many messages the kernel has dropped for socket `fd` since it was
/// opened because its receive buffer was full (SO_MEMINFO's SK_MEMINFO_DROPS,
/// Linux 4.6); -1 with errno set when it cannot tell.
long netpol_socket_drops(int fd);

#endif

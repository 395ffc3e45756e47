#ifndef NETPOL_NETLINK_H
#define NETPOL_NETLINK_H

// Netlink plumbing shared by the ctnetlink and nfnetlink_log readers: the
// socket, and walking a message's attributes with their lengths checked.

#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

static inline int open_socket(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) return -1;
    struct sockaddr_nl address = { .nl_family = AF_NETLINK };
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static inline struct nlattr *first_attribute(void *data, int length, int *left) {
    *left = length;
    return (struct nlattr *)data;
}

static inline int attribute_ok(const struct nlattr *attribute, int left) {
    return left >= (int)sizeof(struct nlattr) && attribute->nla_len >= sizeof(struct nlattr) && attribute->nla_len <= left;
}

static inline struct nlattr *next_attribute(struct nlattr *attribute, int *left) {
    int step = NLA_ALIGN(attribute->nla_len);
    *left -= step;
    return (struct nlattr *)((char *)attribute + step);
}

static inline void *payload(struct nlattr *attribute) { return (char *)attribute + NLA_HDRLEN; }
static inline int payload_length(const struct nlattr *attribute) { return attribute->nla_len - NLA_HDRLEN; }
static inline int type_of(const struct nlattr *attribute) { return attribute->nla_type & NLA_TYPE_MASK; }

#endif

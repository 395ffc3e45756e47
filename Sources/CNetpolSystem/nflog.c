#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include "CNetpolSystem.h"
#include "netlink.h"

enum { log_receive_size = 1 << 16, copied_bytes = 128 };

/// Appends one attribute to the message at `message`, keeping it aligned.
static void put_attribute(struct nlmsghdr *message, unsigned short type, const void *data, int length) {
    struct nlattr *attribute = (struct nlattr *)((char *)message + NLMSG_ALIGN(message->nlmsg_len));
    attribute->nla_type = type;
    attribute->nla_len = NLA_HDRLEN + length;
    memcpy((char *)attribute + NLA_HDRLEN, data, length);
    message->nlmsg_len = NLMSG_ALIGN(message->nlmsg_len) + NLA_ALIGN(attribute->nla_len);
}

/// Sends one NFULNL_MSG_CONFIG for `group` with one attribute and waits for
/// the kernel's acknowledgement: 0, or -1 with errno set to its error.
static int configure(int fd, unsigned short group, unsigned short type, const void *data, int length) {
    char buffer[256] __attribute__((aligned(NLMSG_ALIGNTO)));
    memset(buffer, 0, sizeof buffer);
    struct nlmsghdr *message = (struct nlmsghdr *)buffer;
    message->nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
    message->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    message->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    message->nlmsg_seq = type;
    struct nfgenmsg *header = NLMSG_DATA(message);
    header->nfgen_family = AF_UNSPEC;
    header->version = NFNETLINK_V0;
    header->res_id = htons(group);
    put_attribute(message, type, data, length);
    if (send(fd, buffer, message->nlmsg_len, 0) < 0) return -1;
    char answer[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
    ssize_t received = recv(fd, answer, sizeof answer, 0);
    if (received < 0) return -1;
    struct nlmsghdr *reply = (struct nlmsghdr *)answer;
    if (!NLMSG_OK(reply, (unsigned int)received) || reply->nlmsg_type != NLMSG_ERROR) {
        errno = EPROTO;
        return -1;
    }
    struct nlmsgerr *error = NLMSG_DATA(reply);
    if (error->error != 0) {
        errno = -error->error;
        return -1;
    }
    return 0;
}

int netpol_nflog_open(unsigned short group, int receive_buffer) {
    int fd = open_socket();
    if (fd < 0) return -1;
    if (receive_buffer > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) < 0) goto failed;
    struct nfulnl_msg_config_cmd bind_command = { .command = NFULNL_CFG_CMD_BIND };
    if (configure(fd, group, NFULA_CFG_CMD, &bind_command, sizeof bind_command) < 0) goto failed;
    struct nfulnl_msg_config_mode mode = { .copy_range = htonl(copied_bytes), .copy_mode = NFULNL_COPY_PACKET };
    if (configure(fd, group, NFULA_CFG_MODE, &mode, sizeof mode) < 0) goto failed;
    // One packet per message: a record reaches the reader as soon as it is logged.
    unsigned int one = htonl(1);
    if (configure(fd, group, NFULA_CFG_QTHRESH, &one, sizeof one) < 0) goto failed;
    return fd;
failed:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/// Reads addresses, protocol and ports from the start of a logged packet.
static int read_packet(const unsigned char *packet, int length, struct netpol_log_record *record) {
    if (length < 1) return 0;
    int offset;
    if ((packet[0] >> 4) == 4) {
        if (length < 20) return 0;
        record->family = 4;
        record->protocol = packet[9];
        memcpy(record->source, packet + 12, 4);
        memcpy(record->destination, packet + 16, 4);
        offset = (packet[0] & 0x0f) * 4;
    } else if ((packet[0] >> 4) == 6) {
        if (length < 40) return 0;
        record->family = 6;
        record->protocol = packet[6];
        memcpy(record->source, packet + 8, 16);
        memcpy(record->destination, packet + 24, 16);
        offset = 40;
    } else {
        return 0;
    }
    int has_ports = record->protocol == IPPROTO_TCP || record->protocol == IPPROTO_UDP || record->protocol == IPPROTO_SCTP;
    if (has_ports && length >= offset + 4) {
        record->source_port = (unsigned short)(packet[offset] << 8 | packet[offset + 1]);
        record->destination_port = (unsigned short)(packet[offset + 2] << 8 | packet[offset + 3]);
    }
    return 1;
}

/// Fills `record` from one NFULNL_MSG_PACKET; 0 when it holds no packet netpol reads.
static int read_message(struct nlmsghdr *message, struct netpol_log_record *record) {
    memset(record, 0, sizeof *record);
    int left;
    int found = 0;
    void *attributes = (char *)NLMSG_DATA(message) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    int length = (int)message->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg));
    for (struct nlattr *attribute = first_attribute(attributes, length, &left); attribute_ok(attribute, left); attribute = next_attribute(attribute, &left)) {
        const unsigned char *data = payload(attribute);
        int size = payload_length(attribute);
        switch (type_of(attribute)) {
        case NFULA_PREFIX: {
            int copied = size < (int)sizeof record->prefix - 1 ? size : (int)sizeof record->prefix - 1;
            memcpy(record->prefix, data, copied);
            record->prefix[copied] = 0;
            break;
        }
        case NFULA_PAYLOAD:
            found = read_packet(data, size, record);
            break;
        }
    }
    return found;
}

long netpol_nflog_read(int fd, struct netpol_log_record *records, long capacity, int timeout_ms, long *overruns) {
    struct pollfd waiting = { .fd = fd, .events = POLLIN };
    int ready = poll(&waiting, 1, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : -1;
    if (ready == 0) return 0;
    static __thread char buffer[log_receive_size] __attribute__((aligned(NLMSG_ALIGNTO)));
    ssize_t received = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (received < 0) {
        if (errno == ENOBUFS) {
            // The kernel dropped messages the socket had no room for.
            *overruns += 1;
            return 0;
        }
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    }
    long count = 0;
    for (struct nlmsghdr *message = (struct nlmsghdr *)buffer; NLMSG_OK(message, (unsigned int)received) && count < capacity;
         message = NLMSG_NEXT(message, received)) {
        if (message->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) continue;
        if (read_message(message, &records[count])) count += 1;
    }
    return count;
}

long netpol_socket_drops(int fd) {
    unsigned int info[SK_MEMINFO_VARS];
    socklen_t length = sizeof info;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &length) < 0) return -1;
    if (length <= SK_MEMINFO_DROPS * sizeof info[0]) {
        errno = EPROTO;
        return -1;
    }
    return info[SK_MEMINFO_DROPS];
}

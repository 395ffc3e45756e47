#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include "CNetpolSystem.h"
#include "netlink.h"

enum { receive_buffer_size = 1 << 16 };

/// A big-endian 16-bit payload in host order, when the attribute holds one; 0 when it does not.
static int read_be16(struct nlattr *attribute, unsigned short *value) {
    if (payload_length(attribute) < 2) return 0;
    unsigned short raw;
    memcpy(&raw, payload(attribute), 2);
    *value = ntohs(raw);
    return 1;
}

/// A big-endian 32-bit payload in host order, when the attribute holds one; 0 when it does not.
static int read_be32(struct nlattr *attribute, unsigned int *value) {
    if (payload_length(attribute) < 4) return 0;
    unsigned int raw;
    memcpy(&raw, payload(attribute), 4);
    *value = ntohl(raw);
    return 1;
}

/// Reads addresses and ports of one tuple (CTA_TUPLE_ORIG or CTA_TUPLE_REPLY).
static void read_tuple(struct nlattr *tuple, unsigned char *source, unsigned char *destination,
                       unsigned short *source_port, unsigned short *destination_port, unsigned char *protocol) {
    int left;
    for (struct nlattr *part = first_attribute(payload(tuple), payload_length(tuple), &left); attribute_ok(part, left); part = next_attribute(part, &left)) {
        int inner_left;
        if (type_of(part) == CTA_TUPLE_IP) {
            for (struct nlattr *ip = first_attribute(payload(part), payload_length(part), &inner_left); attribute_ok(ip, inner_left); ip = next_attribute(ip, &inner_left)) {
                int length = payload_length(ip);
                switch (type_of(ip)) {
                case CTA_IP_V4_SRC: if (length >= 4) memcpy(source, payload(ip), 4); break;
                case CTA_IP_V4_DST: if (length >= 4) memcpy(destination, payload(ip), 4); break;
                case CTA_IP_V6_SRC: if (length >= 16) memcpy(source, payload(ip), 16); break;
                case CTA_IP_V6_DST: if (length >= 16) memcpy(destination, payload(ip), 16); break;
                }
            }
        } else if (type_of(part) == CTA_TUPLE_PROTO) {
            for (struct nlattr *proto = first_attribute(payload(part), payload_length(part), &inner_left); attribute_ok(proto, inner_left); proto = next_attribute(proto, &inner_left)) {
                switch (type_of(proto)) {
                case CTA_PROTO_NUM: if (payload_length(proto) >= 1) *protocol = *(unsigned char *)payload(proto); break;
                case CTA_PROTO_SRC_PORT: read_be16(proto, source_port); break;
                case CTA_PROTO_DST_PORT: read_be16(proto, destination_port); break;
                }
            }
        }
    }
}

static void read_flow(struct nlmsghdr *message, struct netpol_ct_flow *flow) {
    memset(flow, 0, sizeof *flow);
    struct nfgenmsg *header = NLMSG_DATA(message);
    flow->family = header->nfgen_family;
    int left;
    void *start = (char *)header + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    int length = (int)message->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct nfgenmsg)));
    for (struct nlattr *attribute = first_attribute(start, length, &left); attribute_ok(attribute, left); attribute = next_attribute(attribute, &left)) {
        switch (type_of(attribute)) {
        case CTA_TUPLE_ORIG:
            read_tuple(attribute, flow->original_source, flow->original_destination, &flow->original_source_port, &flow->original_destination_port, &flow->protocol);
            if ((size_t)payload_length(attribute) <= sizeof flow->original_tuple) {
                flow->original_tuple_length = (unsigned short)payload_length(attribute);
                memcpy(flow->original_tuple, payload(attribute), flow->original_tuple_length);
            }
            break;
        case CTA_TUPLE_REPLY: {
            unsigned char ignored;
            read_tuple(attribute, flow->reply_source, flow->reply_destination, &flow->reply_source_port, &flow->reply_destination_port, &ignored);
            break;
        }
        case CTA_ZONE:
            read_be16(attribute, &flow->zone);
            break;
        case CTA_ID:
            flow->has_id = read_be32(attribute, &flow->id);
            break;
        case CTA_TUPLE_MASTER:
            flow->related = 1;
            break;
        }
    }
}

/// Reads answers to the request `sequence` until its end (the dump's DONE or
/// the ACK of a single request), handing each conntrack message to `each`.
static int read_answers(int fd, unsigned int sequence, int (*each)(struct nlmsghdr *, void *), void *context) {
    char *buffer = malloc(receive_buffer_size);
    if (!buffer) return -1;
    int result = 0;
    for (int done = 0; !done;) {
        ssize_t received = recv(fd, buffer, receive_buffer_size, MSG_TRUNC);
        if (received < 0) {
            if (errno == EINTR) continue;
            result = -1;
            break;
        }
        if (received > receive_buffer_size) {
            errno = EMSGSIZE;
            result = -1;
            break;
        }
        int left = (int)received;
        for (struct nlmsghdr *message = (struct nlmsghdr *)buffer; NLMSG_OK(message, left); message = NLMSG_NEXT(message, left)) {
            if (message->nlmsg_seq != sequence) continue;
            if (message->nlmsg_type == NLMSG_DONE) {
                // A dump the kernel could not finish says so here.
                if (message->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                    int status;
                    memcpy(&status, NLMSG_DATA(message), sizeof status);
                    if (status < 0) { errno = -status; result = -1; }
                }
                done = 1;
                break;
            }
            if (message->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *error = NLMSG_DATA(message);
                if (error->error != 0) { errno = -error->error; result = -1; }
                done = 1;
                break;
            }
            if (each && each(message, context) < 0) { result = -1; done = 1; break; }
        }
    }
    free(buffer);
    return result;
}

struct flow_list {
    netpol_ct_judge judge;
    void *context;
    long examined;
    struct netpol_ct_flow *flows;
    long count;
    long capacity;
};

/// Reads one flow and keeps it when the judge denies it. A connection a
/// helper opened (FTP data, SIP media: it has a master) lives and dies with
/// its master; one whose tuple could not be kept cannot be deleted: neither
/// is judged.
static int judge_flow(struct nlmsghdr *message, void *context) {
    struct flow_list *list = context;
    struct netpol_ct_flow flow;
    read_flow(message, &flow);
    if (flow.related || flow.original_tuple_length == 0) return 0;
    int verdict = list->judge(&flow, list->context);
    if (verdict < 0) return 0;
    list->examined++;
    if (verdict) return 0;
    if (list->count == list->capacity) {
        long capacity = list->capacity ? list->capacity * 2 : 256;
        struct netpol_ct_flow *grown = realloc(list->flows, (size_t)capacity * sizeof *grown);
        if (!grown) return -1;
        list->flows = grown;
        list->capacity = capacity;
    }
    list->flows[list->count++] = flow;
    return 0;
}

long netpol_conntrack_judge(netpol_ct_judge judge, void *context, struct netpol_ct_flow **denied, long *denied_count) {
    *denied = NULL;
    *denied_count = 0;
    int fd = open_socket();
    if (fd < 0) return -1;
    struct {
        struct nlmsghdr header;
        struct nfgenmsg netfilter;
    } request = {
        .header = {
            .nlmsg_len = sizeof request,
            .nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
            .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
            .nlmsg_seq = 1,
        },
        .netfilter = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 },
    };
    struct flow_list list = { .judge = judge, .context = context };
    long result = -1;
    if (send(fd, &request, sizeof request, 0) == (ssize_t)sizeof request && read_answers(fd, 1, judge_flow, &list) == 0) {
        result = list.examined;
        *denied = list.flows;
        *denied_count = list.count;
    } else {
        free(list.flows);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

/// Appends one attribute at `*length` in `message` and moves `*length` past it.
static void append_attribute(char *message, size_t *length, unsigned short type, const void *data, unsigned short size) {
    struct nlattr *attribute = (struct nlattr *)(message + *length);
    attribute->nla_type = type;
    attribute->nla_len = (unsigned short)(NLA_HDRLEN + size);
    memcpy(payload(attribute), data, size);
    *length += NLA_ALIGN(attribute->nla_len);
}

long netpol_conntrack_delete(const struct netpol_ct_flow *flows, long count) {
    int fd = open_socket();
    if (fd < 0) return -1;
    long deleted = 0;
    union {
        struct nlmsghdr header;
        char bytes[NLMSG_SPACE(sizeof(struct nfgenmsg)) + NLA_HDRLEN + sizeof flows->original_tuple + 2 * NLA_ALIGN(NLA_HDRLEN + 4)];
    } buffer;
    char *message = buffer.bytes;
    for (long index = 0; index < count; index++) {
        const struct netpol_ct_flow *flow = &flows[index];
        memset(&buffer, 0, sizeof buffer);
        struct nlmsghdr *header = &buffer.header;
        header->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
        header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        header->nlmsg_seq = (unsigned int)index + 2;
        struct nfgenmsg *netfilter = NLMSG_DATA(header);
        netfilter->nfgen_family = flow->family;
        netfilter->version = NFNETLINK_V0;
        size_t length = NLMSG_SPACE(sizeof(struct nfgenmsg));
        append_attribute(message, &length, CTA_TUPLE_ORIG | NLA_F_NESTED, flow->original_tuple, flow->original_tuple_length);
        if (flow->has_id) {
            // The entry the dump saw, not a newer one with the same tuple: the kernel answers ENOENT.
            unsigned int id = htonl(flow->id);
            append_attribute(message, &length, CTA_ID, &id, sizeof id);
        }
        if (flow->zone) {
            unsigned short zone = htons(flow->zone);
            append_attribute(message, &length, CTA_ZONE, &zone, sizeof zone);
        }
        header->nlmsg_len = (unsigned int)length;
        if (send(fd, message, length, 0) != (ssize_t)length) { deleted = -1; break; }
        if (read_answers(fd, header->nlmsg_seq, NULL, NULL) == 0) {
            deleted++;
        } else if (errno != ENOENT) {
            deleted = -1;
            break;
        }
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return deleted;
}

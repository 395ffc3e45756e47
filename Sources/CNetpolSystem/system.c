#define _GNU_SOURCE
#include <sched.h>
#include "CNetpolSystem.h"

int netpol_enter_network_namespace(int fd) {
    return setns(fd, CLONE_NEWNET);
}

/*
 * The link lab's packet router: joins pairs of TUN devices that live in two
 * network namespaces and holds every packet for its link's one-way delay —
 * netem is absent on these kernels, so delay is done here, at the packet
 * level, where TCP's slow start sees it (rate is `tc htb` on the TUN devices,
 * set up by lab.mjs). A link may also drop everything (a black hole that never
 * answers a SYN).
 *
 *   router NS_A NS_B LINK...        LINK = DEV_A,DEV_B,DELAY_US,DROP
 *
 * NS_A/NS_B are paths such as /run/netns/tsl-c. The devices are created here
 * (not persistent): they vanish when the router exits, so teardown is a kill.
 * Prints "ready" once every device exists. Packets keep their order and
 * spacing: each is released at arrival + delay (ppoll with a ns timeout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINKS 64
#define SLOTS 8192 /* packets in flight per direction: > 200 Mbit x 200 ms one way */
#define MTU 1600

struct packet { uint64_t due; uint16_t len; unsigned char data[MTU]; };
struct queue { struct packet *slots; unsigned head, tail; };
struct side { int fd; struct queue out; /* packets waiting to be written to fd */ };
struct link { struct side a, b; uint64_t delay_ns; int drop; };

static struct link links[MAX_LINKS];
static int nlinks;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what) { perror(what); exit(1); }

static void enter(const char *ns) {
  int fd = open(ns, O_RDONLY);
  if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) die(ns);
  close(fd);
}

static int tun(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) die("/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die(name);
  return fd;
}

static void init_queue(struct queue *q) {
  q->slots = calloc(SLOTS, sizeof(struct packet));
  if (!q->slots) die("calloc");
  q->head = q->tail = 0;
}

/* read every packet waiting on `from`, queue it for `to` with its due time */
static void pump(struct link *l, struct side *from, struct side *to) {
  for (;;) {
    struct queue *q = &to->out;
    struct packet *p = &q->slots[q->tail % SLOTS];
    ssize_t n = read(from->fd, p->data, MTU);
    if (n <= 0) return;
    if (l->drop && from == &l->a) continue;
    if (q->tail - q->head >= SLOTS) continue; /* full: the router's own queue drops */
    p->len = (uint16_t)n;
    p->due = now_ns() + l->delay_ns;
    q->tail++;
  }
}

/* write what is due; return the earliest time something else will be */
static uint64_t release(struct side *s, uint64_t now) {
  struct queue *q = &s->out;
  while (q->head != q->tail) {
    struct packet *p = &q->slots[q->head % SLOTS];
    if (p->due > now) return p->due;
    if (write(s->fd, p->data, p->len) < 0 && errno == EAGAIN) return now + 100000; /* device queue full: retry soon */
    q->head++;
  }
  return UINT64_MAX;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: router NS_A NS_B DEV_A,DEV_B,DELAY_US,DROP...\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  for (int i = 3; i < argc && nlinks < MAX_LINKS; i++) {
    char a[IFNAMSIZ], b[IFNAMSIZ];
    unsigned long delay_us;
    int drop;
    if (sscanf(argv[i], "%15[^,],%15[^,],%lu,%d", a, b, &delay_us, &drop) != 4) {
      fprintf(stderr, "bad link '%s'\n", argv[i]);
      return 2;
    }
    struct link *l = &links[nlinks++];
    enter(argv[1]);
    l->a.fd = tun(a);
    enter(argv[2]);
    l->b.fd = tun(b);
    l->delay_ns = (uint64_t)delay_us * 1000;
    l->drop = drop;
    init_queue(&l->a.out);
    init_queue(&l->b.out);
  }
  printf("ready\n");
  fflush(stdout);

  struct pollfd fds[2 * MAX_LINKS];
  for (;;) {
    uint64_t now = now_ns(), next = UINT64_MAX;
    for (int i = 0; i < nlinks; i++) {
      uint64_t t = release(&links[i].a, now);
      if (t < next) next = t;
      t = release(&links[i].b, now);
      if (t < next) next = t;
      fds[2 * i] = (struct pollfd){ .fd = links[i].a.fd, .events = POLLIN };
      fds[2 * i + 1] = (struct pollfd){ .fd = links[i].b.fd, .events = POLLIN };
    }
    struct timespec ts, *timeout = NULL;
    if (next != UINT64_MAX) {
      uint64_t wait = next > now ? next - now : 0;
      ts.tv_sec = wait / 1000000000ull;
      ts.tv_nsec = wait % 1000000000ull;
      timeout = &ts;
    }
    if (ppoll(fds, 2 * nlinks, timeout, NULL) < 0 && errno != EINTR) die("ppoll");
    for (int i = 0; i < nlinks; i++) {
      if (fds[2 * i].revents & POLLIN) pump(&links[i], &links[i].a, &links[i].b);
      if (fds[2 * i + 1].revents & POLLIN) pump(&links[i], &links[i].b, &links[i].a);
    }
  }
}

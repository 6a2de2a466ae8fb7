/*
 * SMTP transaction latency with a client that costs the server's two cores almost nothing:
 * bench/smtp_source.ts --client latency compiles and runs this (`cc -O2`). The Deno client of
 * bench/smtp_load.ts shares the cores and has a JIT and a GC of its own, which show in its tail
 * (its --probe found most slow transactions waiting on the client, the server idle); this one
 * is smtp-source's kind of client with a clock.
 *
 *   smtp_latency HOST PORT CONNECTIONS MESSAGES SIZE
 *
 * Each connection sends EHLO, then its share of MESSAGES transactions, one command at a time
 * (no pipelining): MAIL, RCPT, DATA, then SIZE bytes of message and the end marker. Latency
 * is per transaction, from writing its MAIL to reading the 250 after its data. Prints one line:
 * "msgs N seconds S p50 A p90 B p99 C max D" (milliseconds).
 *
 * With DUMP set in the environment it also writes one line per transaction to standard error,
 * "CONNECTION START LATENCY": the connection's index, when its MAIL went out (CLOCK_MONOTONIC,
 * ms, the clock of `perf record -k mono` and of V8's own timestamps) and its latency (ms).
 * bench/latency_stalls.ts reads them to find the moments when every connection stalled. The
 * first such line is "# clock MONOTONIC REALTIME", both clocks read at once (ms), to place
 * what was stamped with the wall clock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum step { GREETING, EHLO, MAIL, RCPT, DATA, BODY, QUIT, DONE };

struct conn {
  int fd;
  enum step step;
  int left;          /* transactions still to send */
  double started;    /* when this transaction's MAIL went out */
  char in[8192];
  size_t used;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void send_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    data += n;
    length -= (size_t)n;
  }
}

/* The length of the complete reply at the start of the buffer (its last line "ddd "), or 0. */
static size_t complete_reply(const char *buffer, size_t used) {
  size_t line = 0;
  for (size_t i = 0; i + 1 < used; i++) {
    if (buffer[i] != '\r' || buffer[i + 1] != '\n') continue;
    if (i - line >= 4 && buffer[line + 3] == ' ') return i + 2;
    line = i + 2;
  }
  return 0;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT CONNECTIONS MESSAGES SIZE\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), connections = atoi(argv[3]), messages = atoi(argv[4]);
  int size = atoi(argv[5]);
  if (connections < 1 || messages < connections || size < 100) {
    fprintf(stderr, "need 1+ connections, at least as many messages, size >= 100\n");
    return 2;
  }

  /* The message: a few headers, then 72-character lines up to SIZE bytes, one dot-stuffed. */
  char *message = malloc((size_t)size + 512);
  int length = sprintf(message,
                       "From: Latency <latency@example.com>\r\nTo: user@bench.test\r\n"
                       "Subject: latency test\r\nMessage-ID: <latency@example.com>\r\n"
                       "Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n\r\n"
                       "..a line that began with a dot\r\n");
  while (length < size) {
    length += sprintf(message + length,
                      "The quick brown fox jumps over the lazy dog, again and again and again.\r\n");
  }
  length += sprintf(message + length, ".\r\n");

  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) die("inet_pton");
  struct conn *conns = calloc((size_t)connections, sizeof *conns);
  struct pollfd *polls = calloc((size_t)connections, sizeof *polls);
  for (int i = 0; i < connections; i++) {
    conns[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    if (conns[i].fd < 0) die("socket");
    if (connect(conns[i].fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
    int one = 1;
    setsockopt(conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[i].step = GREETING;
    conns[i].left = messages / connections + (i < messages % connections);
    polls[i].fd = conns[i].fd;
    polls[i].events = POLLIN;
  }

  double *latency = malloc(sizeof(double) * (size_t)messages);
  const int dump = getenv("DUMP") != NULL;
  if (dump) {
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    fprintf(stderr, "# clock %.3f %.3f\n", now_ms(), real.tv_sec * 1e3 + real.tv_nsec / 1e6);
  }
  int measured = 0, open = connections;
  double first = 0;
  while (open > 0) {
    if (poll(polls, (nfds_t)connections, 10000) <= 0) die("poll (no reply for 10 s)");
    for (int i = 0; i < connections; i++) {
      if (!(polls[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      struct conn *c = &conns[i];
      ssize_t n = read(c->fd, c->in + c->used, sizeof c->in - c->used);
      if (n <= 0) die("read (connection closed)");
      c->used += (size_t)n;
      size_t reply;
      while ((reply = complete_reply(c->in, c->used)) > 0) {
        int code = atoi(c->in);
        int expected = c->step == GREETING ? 220 : c->step == DATA ? 354 : c->step == QUIT ? 221 : 250;
        if (code != expected) {
          fprintf(stderr, "unexpected reply at step %d: %.*s", c->step, (int)reply, c->in);
          return 1;
        }
        memmove(c->in, c->in + reply, c->used - reply);
        c->used -= reply;
        switch (c->step) {
        case GREETING:
          send_all(c->fd, "EHLO latency.test\r\n", 19);
          c->step = EHLO;
          break;
        case BODY:
          latency[measured] = now_ms() - c->started;
          if (dump) fprintf(stderr, "%d %.3f %.3f\n", i, c->started, latency[measured]);
          measured++;
          c->left--;
          __attribute__((fallthrough)); /* to the next transaction, or QUIT */
        case EHLO:
          if (c->left == 0) {
            send_all(c->fd, "QUIT\r\n", 6);
            c->step = QUIT;
            break;
          }
          c->started = now_ms();
          if (first == 0) first = c->started;
          send_all(c->fd, "MAIL FROM:<latency@example.com>\r\n", 33);
          c->step = MAIL;
          break;
        case MAIL:
          send_all(c->fd, "RCPT TO:<user@bench.test>\r\n", 27);
          c->step = RCPT;
          break;
        case RCPT:
          send_all(c->fd, "DATA\r\n", 6);
          c->step = DATA;
          break;
        case DATA:
          send_all(c->fd, message, (size_t)length);
          c->step = BODY;
          break;
        case QUIT:
          close(c->fd);
          polls[i].fd = -1;
          c->step = DONE;
          open--;
          break;
        case DONE:
          break;
        }
        if (c->step == DONE) break;
      }
    }
  }
  double seconds = (now_ms() - first) / 1e3;
  qsort(latency, (size_t)measured, sizeof(double), compare);
/* As bench/smtp_load.ts reads a percentile: the value at floor(n × p). */
#define AT(p) latency[(size_t)((p) * measured) < (size_t)measured ? (size_t)((p) * measured) : (size_t)measured - 1]
  printf("msgs %d seconds %.4f p50 %.3f p90 %.3f p99 %.3f max %.3f\n", measured, seconds,
         AT(0.5), AT(0.9), AT(0.99), latency[measured - 1]);
  return 0;
}

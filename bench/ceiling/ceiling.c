/*
 * The ceiling: what raw librdkafka does with fd polling and no JS at all. N producers, each with an eventfd
 * that librdkafka writes to when its main queue becomes non-empty, one epoll loop serving them with
 * rd_kafka_poll(rk, 0) until empty (the same scheme as our addon, minus Node). Each producer sends M
 * messages of S bytes; the clock runs from the first send to the last delivery report. Repeats the burst R
 * times after a warm-up and prints one JSON line per burst.
 *
 *   ceiling <brokers> <topic> <producers> <messages> <bytes> <rounds>
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static long acked, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) failed++;
  else acked++;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The main thread's time on a CPU and waiting on the run queue for one (ns), from the kernel's schedstat, as
 * bench/sched.ts reads it for ours; 0 and 0 without it. */
static void thread_sched(double *run, double *wait) {
  *run = *wait = 0;
  FILE *f = fopen("/proc/thread-self/schedstat", "r");
  if (!f) return;
  if (fscanf(f, "%lf %lf", run, wait) != 2) *run = *wait = 0;
  fclose(f);
}

static void serve(rd_kafka_t *rk, int fd) {
  uint64_t v;
  while (read(fd, &v, sizeof(v)) > 0) {
  }
  while (rd_kafka_poll(rk, 0) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s brokers topic producers messages bytes rounds\n", argv[0]);
    return 2;
  }
  const char *brokers = argv[1], *topic = argv[2];
  int n = atoi(argv[3]), messages = atoi(argv[4]), bytes = atoi(argv[5]), rounds = atoi(argv[6]);
  rd_kafka_t **rks = calloc(n, sizeof(*rks));
  int *fds = calloc(n, sizeof(*fds));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  static const uint64_t one = 1;
  char errstr[512];
  for (int i = 0; i < n; i++) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr))) {
      fprintf(stderr, "%s\n", errstr);
      return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rks[i] = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rks[i]) {
      fprintf(stderr, "%s\n", errstr);
      return 1;
    }
    fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(rks[i]);
    rd_kafka_queue_io_event_enable(q, fds[i], &one, sizeof(one));
    rd_kafka_queue_destroy(q);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  char *value = malloc(bytes);
  memset(value, 7, bytes);
  struct epoll_event events[64];
  for (int round = -1; round < rounds; round++) {
    /* round -1 is the warm-up: one message each (connections, metadata). */
    int per = round < 0 ? 1 : messages;
    long target = acked + failed + (long)per * n;
    double run0, wait0, run1, wait1;
    thread_sched(&run0, &wait0);
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < per; k++) {
        while (rd_kafka_producev(rks[i], RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, bytes),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
          serve(rks[i], fds[i]);
        /* Serve inline as our addon does, so reports do not pile up during the loop. */
        if ((k & 63) == 63) serve(rks[i], fds[i]);
      }
    }
    while (acked + failed < target) {
      int ready = epoll_wait(ep, events, 64, 1000);
      for (int e = 0; e < ready; e++) serve(rks[events[e].data.u32], fds[events[e].data.u32]);
      if (ready == 0)
        for (int i = 0; i < n; i++) serve(rks[i], fds[i]);
    }
    double ms = now_ms() - t0;
    thread_sched(&run1, &wait1);
    double msgs = (double)per * n;
    if (round >= 0)
      printf("{\"producers\":%d,\"msgs\":%ld,\"ms\":%.3f,\"failed\":%ld,\"jsCpuUsPerMsg\":%.4f,\"jsWaitUsPerMsg\":%.4f}\n", n,
             (long)per * n, ms, failed, (run1 - run0) / 1000 / msgs, (wait1 - wait0) / 1000 / msgs);
  }
  for (int i = 0; i < n; i++) {
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(rks[i]);
    rd_kafka_queue_io_event_enable(q, -1, NULL, 0);
    rd_kafka_queue_destroy(q);
    close(fds[i]);
    rd_kafka_destroy(rks[i]);
  }
  printf("{\"librdkafka\":\"%s\"}\n", rd_kafka_version_str());
  return failed ? 1 : 0;
}

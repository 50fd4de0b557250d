/*
 * The floor under one produce call: librdkafka's own enqueue of a 100-byte value (copied) with an opaque, on
 * one thread, broker-free (the producer points at a closed port and its queue holds everything), as
 * bench/produce-path.ts times ours. rd_kafka_produceva per message (the addon's single-message call) and
 * rd_kafka_produce_batch per 1000 (what produceValues, the batch path, calls for runs of plain messages).
 * Prints one JSON line: the median ns per message of 7 loops of 200,000.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 200000
#define LOOPS 7

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static rd_kafka_t *open_producer(void) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "queue.buffering.max.messages", "2000000", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "message.timeout.ms", "300000", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
  return rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
}

static void drop(rd_kafka_t *rk) {
  rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
  rd_kafka_destroy(rk);
}

int main(void) {
  char value[100];
  memset(value, 7, sizeof(value));
  double va[LOOPS], batch[LOOPS];
  rd_kafka_message_t *msgs = calloc(1000, sizeof(*msgs));
  uintptr_t id = 1;
  for (int r = 0; r < LOOPS; r++) {
    /* A producer per loop, as ours gets one per run: its queue never holds more than one loop. */
    rd_kafka_t *rk = open_producer();
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "produce-path", NULL);
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
      rd_kafka_vu_t vus[4] = {{.vtype = RD_KAFKA_VTYPE_RKT, .u.rkt = rkt},
                              {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
                              {.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {value, sizeof(value)}},
                              {.vtype = RD_KAFKA_VTYPE_OPAQUE, .u.ptr = (void *)id++}};
      rd_kafka_error_t *error = rd_kafka_produceva(rk, vus, 4);
      if (error) return 1;
    }
    va[r] = (now_ns() - t0) / N;
    rd_kafka_topic_destroy(rkt);
    drop(rk);

    rk = open_producer();
    rkt = rd_kafka_topic_new(rk, "produce-path", NULL);
    t0 = now_ns();
    for (int i = 0; i < N; i += 1000) {
      for (int j = 0; j < 1000; j++) {
        memset(&msgs[j], 0, sizeof(msgs[j]));
        msgs[j].payload = value;
        msgs[j].len = sizeof(value);
        msgs[j]._private = (void *)id++;
      }
      if (rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, msgs, 1000) != 1000) return 1;
    }
    batch[r] = (now_ns() - t0) / N;
    rd_kafka_topic_destroy(rkt);
    drop(rk);
  }
  qsort(va, LOOPS, sizeof(double), cmp);
  qsort(batch, LOOPS, sizeof(double), cmp);
  printf("{\"produceva\":%.1f,\"produceBatch\":%.1f,\"librdkafka\":\"%s\"}\n", va[LOOPS / 2], batch[LOOPS / 2], rd_kafka_version_str());
  free(msgs);
  return 0;
}

#pragma once
// NativeConsumer: a Client (client.h) served by the poller like a producer. Two queues share one eventfd: the
// consumer queue (the main queue forwarded into it) carries events (rebalances, commits, errors, logs,
// statistics), served with the event API; the message queue, to which each assigned partition's queue is
// forwarded, carries messages, taken in batches. Its own part:
//  - flow control by credit: it takes messages out of librdkafka only while JS has room for them (JS gives
//    credit back as handlers finish); with none left the message queue is not drained and librdkafka stops
//    fetching; events are served regardless;
//  - rebalances are decided in JS (finish in-flight work, store offsets) and applied here afterwards, with
//    the assign call the group's protocol needs; nothing is served in between;
//  - offset stores and commits for at-least-once; close with rd_kafka_consumer_close_queue, served through
//    the fd until rd_kafka_consumer_closed(), never blocking.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "client.h"

namespace kafka_fd {

class Consumer : public ClientWrap<Consumer> {
 public:
  static Napi::Function Init(Napi::Env env);
  // new NativeConsumer(config: string[], sink: { onEvent, onMessages, onRebalance, onCommit })
  explicit Consumer(const Napi::CallbackInfo& info);
  ~Consumer() override;

  Served ServeNative(uint64_t deadline_ns) override;
  bool HasQueuedEvents() override;

  // A copy of the group's metadata (id, generation, member) for a transaction's offsets; nullptr once the
  // consumer is closing. Not blocking: librdkafka copies what it holds.
  rd_kafka_consumer_group_metadata_t* GroupMetadata() {
    return Stopped() ? nullptr : rd_kafka_consumer_group_metadata(rk_);
  }

 protected:
  bool UsesEventApi() override { return true; }
  void Configure(rd_kafka_conf_t* conf) override;
  void AfterOpen() override;
  bool DispatchOwn(Napi::Env env, Napi::Object recv, size_t max, PollerMetrics* metrics, Dispatched* out) override;
  bool HasOwnPending() override { return !messages_.empty() || !rebalances_.empty() || !commits_.empty(); }
  void DropOwnPending() override {
    DropMessages();
    rebalances_.clear();
    commits_.clear();
  }
  bool Busy() override { return subscribed_; }
  void ReleaseHandles() override;
  int DestroyFlags() override { return RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE; }
  std::vector<rd_kafka_queue_t*> WatchedQueues() override { return {consumer_queue_, messages_queue_}; }

 private:
  // A message waiting for JS, as librdkafka gave it: from a batch (owned) or inside its event.
  struct Pending {
    const rd_kafka_message_t* message;
    rd_kafka_message_t* owned;
    rd_kafka_event_t* event;
    void Destroy() {
      if (owned != nullptr) rd_kafka_message_destroy(owned);
      if (event != nullptr) rd_kafka_event_destroy(event);
    }
  };
  struct Rebalance {
    bool assign;
    bool lost;
    std::vector<std::pair<std::string, int32_t>> partitions;
  };
  struct Commit {
    double id;  // 0: an auto-commit
    int err;
  };

  Napi::Value Subscribe(const Napi::CallbackInfo& info);    // (topics: string[]) -> err
  Napi::Value Unsubscribe(const Napi::CallbackInfo& info);  // () -> err
  Napi::Value Credit(const Napi::CallbackInfo& info);       // (n): JS has room for n more messages
  Napi::Value RebalanceDone(const Napi::CallbackInfo& info);  // () apply the pending rebalance -> err
  Napi::Value StoreOffsets(const Napi::CallbackInfo& info);   // (topics, partitions, offsets) -> err
  Napi::Value CommitJs(const Napi::CallbackInfo& info);       // (id) -> err; result via onCommit(id, err)
  Napi::Value PauseJs(const Napi::CallbackInfo& info);        // (pause: bool, topics, partitions) -> err
  Napi::Value Seek(const Napi::CallbackInfo& info);           // (topics, partitions, offsets) -> err
  Napi::Value CloseConsumer(const Napi::CallbackInfo& info);  // start leaving the group -> err
  Napi::Value ConsumerClosed(const Napi::CallbackInfo& info); // -> bool

  void TakeEvent(rd_kafka_event_t* ev);
  bool TakeMessage(const rd_kafka_message_t* m);  // a message for JS (one credit), or an error reported
  void DropMessages();
  void ForwardPartitions(const rd_kafka_topic_partition_list_t* parts);  // their queues into messages_queue_
  rd_kafka_resp_err_t ApplyRebalance(rd_kafka_event_t* ev);  // assign/unassign as the group's protocol says
  void Wake();  // serve again now (credit came back, a rebalance was applied)

  // Numbers per message in onMessages' Float64Array: topic index, partition, offset, timestamp, key start,
  // key length (-1: null), value start, value length (-1: null).
  rd_kafka_queue_t* consumer_queue_ = nullptr;
  rd_kafka_queue_t* messages_queue_ = nullptr;  // assigned partitions' messages (ForwardPartitions)
  std::deque<Pending> messages_;
  std::deque<Rebalance> rebalances_;
  std::deque<Commit> commits_;
  rd_kafka_event_t* pending_rebalance_ = nullptr;  // applied by RebalanceDone
  double credit_ = 0;
  bool subscribed_ = false;
  bool leaving_ = false;  // consumer_close_queue called: revokes are applied at once
  Napi::FunctionReference on_messages_, on_rebalance_, on_commit_;
};

}  // namespace kafka_fd

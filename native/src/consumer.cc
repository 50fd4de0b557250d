#include "consumer.h"

#include <cstring>

#include "kafka_error.h"
#include "message_columns.h"
#include "partition_list.h"
#include "poller.h"
#include "util/js_call.h"

namespace kafka_fd {

Napi::Function Consumer::Init(Napi::Env env) {
  std::vector<Method> methods = ClientMethods();
  methods.push_back(InstanceMethod("subscribe", &Consumer::Subscribe));
  methods.push_back(InstanceMethod("unsubscribe", &Consumer::Unsubscribe));
  methods.push_back(InstanceMethod("credit", &Consumer::Credit));
  methods.push_back(InstanceMethod("rebalanceDone", &Consumer::RebalanceDone));
  methods.push_back(InstanceMethod("storeOffsets", &Consumer::StoreOffsets));
  methods.push_back(InstanceMethod("commit", &Consumer::CommitJs));
  methods.push_back(InstanceMethod("pause", &Consumer::PauseJs));
  methods.push_back(InstanceMethod("seek", &Consumer::Seek));
  methods.push_back(InstanceMethod("closeConsumer", &Consumer::CloseConsumer));
  methods.push_back(InstanceMethod("consumerClosed", &Consumer::ConsumerClosed));
  return DefineClass(env, "NativeConsumer", methods);
}

Consumer::Consumer(const Napi::CallbackInfo& info) : ClientWrap<Consumer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject())
    throw Napi::TypeError::New(env, "NativeConsumer(config: string[], sink: object)");
  Napi::Object sink = info[1].As<Napi::Object>();
  on_messages_ = Napi::Weak(sink.Get("onMessages").As<Napi::Function>());
  on_rebalance_ = Napi::Weak(sink.Get("onRebalance").As<Napi::Function>());
  on_commit_ = Napi::Weak(sink.Get("onCommit").As<Napi::Function>());
  held_ = {&on_messages_, &on_rebalance_, &on_commit_};
  Open(env, info[0], sink, RD_KAFKA_CONSUMER, "KafkaFdConsumer");
}

Consumer::~Consumer() {
  Drop();
}

void Consumer::Configure(rd_kafka_conf_t* conf) {
  // Everything arrives as events on the consumer queue; no C callbacks.
  rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_OFFSET_COMMIT | RD_KAFKA_EVENT_ERROR |
                                     RD_KAFKA_EVENT_LOG | RD_KAFKA_EVENT_STATS);
}

void Consumer::AfterOpen() {
  // The main queue (errors, logs, statistics) is forwarded into the consumer queue: io events must be
  // enabled on the queue that is polled, and one eventfd then wakes for both.
  rd_kafka_poll_set_consumer(rk_);
  consumer_queue_ = rd_kafka_queue_get_consumer(rk_);
  // Messages come through a queue of their own (each assigned partition's queue is forwarded to it), taken
  // a batch at a time: one lock of the queue per batch instead of one per message, which the fetching
  // broker thread also takes for every message it adds.
  messages_queue_ = rd_kafka_queue_new(rk_);
}

void Consumer::ReleaseHandles() {
  // Messages hold references into the handle: they go before it.
  DropMessages();
  if (pending_rebalance_ != nullptr) rd_kafka_event_destroy(pending_rebalance_);
  pending_rebalance_ = nullptr;
  if (consumer_queue_ != nullptr) rd_kafka_queue_destroy(consumer_queue_);
  consumer_queue_ = nullptr;
  if (messages_queue_ != nullptr) rd_kafka_queue_destroy(messages_queue_);
  messages_queue_ = nullptr;
}

bool Consumer::HasQueuedEvents() {
  return consumer_queue_ != nullptr && !closing_ &&
         (rd_kafka_queue_length(consumer_queue_) > 0 || (credit_ > 0 && rd_kafka_queue_length(messages_queue_) > 0));
}

void Consumer::Wake() {
  if (poller_ && !destroyed_) poller_->Wake(this);
}

PollTarget::Served Consumer::ServeNative(uint64_t deadline_ns) {
  Served served;
  if (Stopped() || consumer_queue_ == nullptr) return served;
  // Events first (rebalances, commits, errors, logs, statistics), credit or not; a rebalance waiting for JS
  // stops everything until RebalanceDone (which wakes this again).
  while (pending_rebalance_ == nullptr) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(consumer_queue_, 0);
    if (ev == nullptr) break;
    served.events++;
    TakeEvent(ev);
    if (NowNs() >= deadline_ns) {
      served.done = false;
      return served;
    }
  }
  // Messages while JS has room for them: with no credit the queue is left as it is (librdkafka stops
  // fetching once its buffers are full) and Credit() wakes this again.
  constexpr size_t kBatch = 1024;
  rd_kafka_message_t* batch[kBatch];
  while (pending_rebalance_ == nullptr && credit_ > 0 && !leaving_) {
    size_t want = static_cast<size_t>(std::min<double>(credit_, kBatch));
    ssize_t n = rd_kafka_consume_batch_queue(messages_queue_, 0, batch, want);
    if (n <= 0) break;
    // Kept as they are until dispatched: their bytes are copied once, straight into JS buffers.
    for (ssize_t i = 0; i < n; i++) {
      if (TakeMessage(batch[i])) messages_.push_back({batch[i], batch[i], nullptr});
      else rd_kafka_message_destroy(batch[i]);
    }
    served.events += static_cast<size_t>(n);
    if (NowNs() >= deadline_ns) {
      served.done = false;
      return served;
    }
  }
  return served;
}

bool Consumer::TakeMessage(const rd_kafka_message_t* m) {
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return false;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    OnError(m->err, rd_kafka_message_errstr(m));
    return false;
  }
  credit_--;
  return true;
}

void Consumer::DropMessages() {
  for (Pending& p : messages_) p.Destroy();
  messages_.clear();
}

void Consumer::ForwardPartitions(const rd_kafka_topic_partition_list_t* parts) {
  for (int i = 0; parts != nullptr && i < parts->cnt; i++) {
    rd_kafka_queue_t* q = rd_kafka_queue_get_partition(rk_, parts->elems[i].topic, parts->elems[i].partition);
    if (q == nullptr) continue;
    // Set by the application, the forward is kept by librdkafka when it starts fetching the partition.
    rd_kafka_queue_forward(q, messages_queue_);
    rd_kafka_queue_destroy(q);
  }
}

void Consumer::TakeEvent(rd_kafka_event_t* ev) {
  switch (rd_kafka_event_type(ev)) {
    case RD_KAFKA_EVENT_FETCH: {
      // Consumer errors (and messages of a partition not forwarded yet) come this way.
      // One message per event: a message keeps its event until dispatched.
      const rd_kafka_message_t* m = rd_kafka_event_message_next(ev);
      if (m != nullptr && TakeMessage(m)) {
        messages_.push_back({m, nullptr, ev});
        return;
      }
      break;
    }
    case RD_KAFKA_EVENT_REBALANCE: {
      Rebalance r;
      r.assign = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
      r.lost = !r.assign && rd_kafka_assignment_lost(rk_) != 0;
      const rd_kafka_topic_partition_list_t* parts = rd_kafka_event_topic_partition_list(ev);
      for (int i = 0; parts != nullptr && i < parts->cnt; i++) r.partitions.push_back({parts->elems[i].topic, parts->elems[i].partition});
      rebalances_.push_back(std::move(r));
      if (!leaving_) {
        pending_rebalance_ = ev;  // applied by RebalanceDone, once JS has finished with the revoked partitions
        return;
      }
      // Leaving the group: close waited for the handlers already, and the leave cannot complete (nor the
      // handle be destroyed) while a revoke waits for an assign call.
      ApplyRebalance(ev);
      break;
    }
    case RD_KAFKA_EVENT_OFFSET_COMMIT:
      commits_.push_back({static_cast<double>(reinterpret_cast<uintptr_t>(rd_kafka_event_opaque(ev))), rd_kafka_event_error(ev)});
      break;
    case RD_KAFKA_EVENT_ERROR:
      OnError(rd_kafka_event_error(ev), rd_kafka_event_error_string(ev));
      break;
    case RD_KAFKA_EVENT_LOG: {
      const char *fac, *text;
      int level;
      if (rd_kafka_event_log(ev, &fac, &text, &level) == 0) OnLog(level, fac, text);
      break;
    }
    case RD_KAFKA_EVENT_STATS: {
      const char* json = rd_kafka_event_stats(ev);
      if (json != nullptr) OnStats(json, strlen(json));
      break;
    }
    default:
      break;
  }
  rd_kafka_event_destroy(ev);
}

bool Consumer::DispatchOwn(Napi::Env env, Napi::Object recv, size_t max, PollerMetrics* metrics, Dispatched* out) {
  napi_async_context context = *async_context_;
  size_t n = std::min(max, messages_.size());
  if (n > 0) {
    std::vector<const rd_kafka_message_t*> batch(n);
    for (size_t i = 0; i < n; i++) batch[i] = messages_[i].message;
    MessageColumns columns = ToColumns(env, batch);
    for (size_t i = 0; i < n; i++) messages_[i].Destroy();
    messages_.erase(messages_.begin(), messages_.begin() + static_cast<std::ptrdiff_t>(n));
    out->reports = n;
    CountBatch(metrics, n);
    napi_value args[] = {columns.bytes, columns.meta, columns.names, columns.headers};
    if (!CallJs(env, recv, on_messages_.Value(), 4, args, context)) return false;
  }
  // A rebalance follows the messages fetched before it.
  if (messages_.empty() && !rebalances_.empty()) {
    Rebalance r = std::move(rebalances_.front());
    rebalances_.pop_front();
    Napi::Array parts = Napi::Array::New(env, r.partitions.size());
    for (size_t i = 0; i < r.partitions.size(); i++) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("topic", r.partitions[i].first);
      p.Set("partition", r.partitions[i].second);
      parts.Set(static_cast<uint32_t>(i), p);
    }
    napi_value args[] = {Napi::Boolean::New(env, r.assign), parts, Napi::Boolean::New(env, r.lost)};
    out->any = true;
    if (!CallJs(env, recv, on_rebalance_.Value(), 3, args, context)) return false;
  }
  while (!commits_.empty()) {
    Commit c = commits_.front();
    commits_.pop_front();
    napi_value args[] = {Napi::Number::New(env, c.id), Napi::Number::New(env, c.err)};
    out->any = true;
    if (!CallJs(env, recv, on_commit_.Value(), 2, args, context)) return false;
  }
  return true;
}

Napi::Value Consumer::Subscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) return Napi::Number::New(env, RD_KAFKA_RESP_ERR__STATE);
  Napi::Array topics = info[0].As<Napi::Array>();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.Length()));
  for (uint32_t i = 0; i < topics.Length(); i++) {
    std::string t = topics.Get(i).ToString();
    rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    subscribed_ = true;
    KeepAliveIf(true);
    Wake();
  }
  return Napi::Number::New(env, err);
}

Napi::Value Consumer::Unsubscribe(const Napi::CallbackInfo& info) {
  if (Stopped()) return Napi::Number::New(info.Env(), RD_KAFKA_RESP_ERR__STATE);
  rd_kafka_resp_err_t err = rd_kafka_unsubscribe(rk_);
  return Napi::Number::New(info.Env(), err);
}

Napi::Value Consumer::Credit(const Napi::CallbackInfo& info) {
  bool was_empty = credit_ <= 0;
  credit_ += info[0].As<Napi::Number>().DoubleValue();
  if (was_empty && credit_ > 0) Wake();
  return info.Env().Undefined();
}

Napi::Value Consumer::RebalanceDone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pending_rebalance_ == nullptr || rk_ == nullptr) return Napi::Number::New(env, 0);
  rd_kafka_resp_err_t err = ApplyRebalance(pending_rebalance_);
  rd_kafka_event_destroy(pending_rebalance_);
  pending_rebalance_ = nullptr;
  Wake();
  return Napi::Number::New(env, err);
}

rd_kafka_resp_err_t Consumer::ApplyRebalance(rd_kafka_event_t* ev) {
  bool assign = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  const rd_kafka_topic_partition_list_t* parts = rd_kafka_event_topic_partition_list(ev);
  bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0;
  if (assign) ForwardPartitions(parts);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_error_t* error = nullptr;
  if (cooperative) {
    error = assign ? rd_kafka_incremental_assign(rk_, parts) : rd_kafka_incremental_unassign(rk_, parts);
  } else {
    err = rd_kafka_assign(rk_, assign ? parts : nullptr);
  }
  if (error != nullptr) {
    err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
  }
  return err;
}

Napi::Value Consumer::StoreOffsets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) return Napi::Number::New(env, RD_KAFKA_RESP_ERR__STATE);
  rd_kafka_topic_partition_list_t* list = PartitionList(info, 0, true);
  // ERR__STATE for a partition no longer assigned: a revoked partition's offsets are never stored.
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  return Napi::Number::New(env, err);
}

Napi::Value Consumer::CommitJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) return Napi::Number::New(env, RD_KAFKA_RESP_ERR__STATE);
  double id = info[0].As<Napi::Number>().DoubleValue();
  // (id): the offsets stored; (id, topics, partitions, offsets): exactly those (JS checked them).
  rd_kafka_topic_partition_list_t* list = info.Length() > 1 ? PartitionList(info, 1, true) : nullptr;
  // Asynchronous: the result comes back as an OFFSET_COMMIT event on the consumer queue, with the id.
  rd_kafka_resp_err_t err =
      rd_kafka_commit_queue(rk_, list, consumer_queue_, nullptr, reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  if (list != nullptr) rd_kafka_topic_partition_list_destroy(list);
  return Napi::Number::New(env, err);
}

Napi::Value Consumer::PauseJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) return Napi::Number::New(env, RD_KAFKA_RESP_ERR__STATE);
  bool pause = info[0].ToBoolean();
  rd_kafka_topic_partition_list_t* list = PartitionList(info, 1, false);
  rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(rk_, list) : rd_kafka_resume_partitions(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  return Napi::Number::New(env, err);
}

Napi::Value Consumer::Seek(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) return Napi::Number::New(env, RD_KAFKA_RESP_ERR__STATE);
  rd_kafka_topic_partition_list_t* list = PartitionList(info, 0, true);
  // Asynchronous (timeout 0), but the partition's version barrier moves now: whatever librdkafka fetched
  // before this call is dropped when read from its queues. What this side took already is dropped here.
  rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_, list, 0);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (error != nullptr) {
    err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
  } else {
    size_t dropped = 0;
    for (auto it = messages_.begin(); it != messages_.end();) {
      const rd_kafka_topic_partition_t* tp =
          rd_kafka_topic_partition_list_find(list, rd_kafka_topic_name(it->message->rkt), it->message->partition);
      if (tp == nullptr) {
        ++it;
        continue;
      }
      it->Destroy();
      it = messages_.erase(it);
      dropped++;
    }
    // Their credit comes back (JS never saw them).
    bool was_empty = credit_ <= 0;
    credit_ += static_cast<double>(dropped);
    if (was_empty && credit_ > 0) Wake();
  }
  rd_kafka_topic_partition_list_destroy(list);
  return Napi::Number::New(env, err);
}

Napi::Value Consumer::CloseConsumer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (Stopped()) return Napi::Number::New(env, RD_KAFKA_RESP_ERR__STATE);
  leaving_ = true;
  // A revoke still waiting for JS (its handlers are stuck past close's timeout) is applied now.
  if (pending_rebalance_ != nullptr) {
    ApplyRebalance(pending_rebalance_);
    rd_kafka_event_destroy(pending_rebalance_);
    pending_rebalance_ = nullptr;
  }
  rd_kafka_error_t* error = rd_kafka_consumer_close_queue(rk_, consumer_queue_);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (error != nullptr) {
    err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
  }
  Wake();
  return Napi::Number::New(env, err);
}

Napi::Value Consumer::ConsumerClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), rk_ == nullptr || rd_kafka_consumer_closed(rk_) != 0);
}

}  // namespace kafka_fd

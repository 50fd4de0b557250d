#include "addon.h"

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include <vector>

#include "mock_cluster.h"
#include "poller.h"
#include "consumer.h"
#include "event_queue.h"
#include "producer.h"
#include "transaction.h"

namespace kafka_fd {

Addon::Addon(Napi::Env env, Napi::Object exports) : state_(std::make_shared<EnvState>()) {
  state_->env = env;
  producer_ctor = Napi::Persistent(Producer::Init(env));
  consumer_ctor = Napi::Persistent(Consumer::Init(env));
  poller_ctor = Napi::Persistent(Poller::Init(env));
  mock_cluster_ctor = Napi::Persistent(MockCluster::Init(env));
  DefineAddon(exports, {
                           InstanceValue("NativeProducer", producer_ctor.Value()),
                           InstanceValue("NativeConsumer", consumer_ctor.Value()),
                           InstanceValue("NativePoller", poller_ctor.Value()),
                           InstanceValue("NativeMockCluster", mock_cluster_ctor.Value()),
                           InstanceMethod("setErrorClass", &Addon::SetErrorClass),
                           InstanceMethod("versions", &Addon::Versions),
                           InstanceValue("constants", Constants(env)),
                       });
  napi_add_async_cleanup_hook(env, &Addon::AsyncCleanup, this, &cleanup_handle_);
}

Addon::~Addon() {
  // Normally the cleanup hook has run (and removed itself) by now.
  if (cleanup_handle_ != nullptr) napi_remove_async_cleanup_hook(cleanup_handle_);
}

Napi::Value Addon::SetErrorClass(const Napi::CallbackInfo& info) {
  state_->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// What the TS side must agree on with this one, defined here once: event kinds, transaction operations,
// the poller's option defaults, RD_KAFKA_OFFSET_INVALID, and every librdkafka error code by name
// ({ ERR__QUEUE_FULL: -184, ... }).
Napi::Object Addon::Constants(Napi::Env env) {
  Napi::Object events = Napi::Object::New(env);
  events.Set("error", static_cast<double>(Event::kError));
  events.Set("stats", static_cast<double>(Event::kStats));
  events.Set("log", static_cast<double>(Event::kLog));
  Napi::Object txn = Napi::Object::New(env);
  txn.Set("init", static_cast<double>(TxnOp::kInit));
  txn.Set("begin", static_cast<double>(TxnOp::kBegin));
  txn.Set("commit", static_cast<double>(TxnOp::kCommit));
  txn.Set("abort", static_cast<double>(TxnOp::kAbort));
  txn.Set("sendOffsets", static_cast<double>(TxnOp::kSendOffsets));
  Napi::Object codes = Napi::Object::New(env);
  const struct rd_kafka_err_desc* descs;
  size_t count;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; i++) {
    if (descs[i].name != nullptr) codes.Set(std::string("ERR_") + descs[i].name, static_cast<double>(descs[i].code));
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", events);
  o.Set("txn", txn);
  o.Set("codes", codes);
  o.Set("offsetInvalid", static_cast<double>(RD_KAFKA_OFFSET_INVALID));
  o.Set("pollerDefaults", Poller::Defaults(env));
  return o;
}

// librdkafka's version, and the names and descriptions of its error codes (JS caches them per code).
Napi::Value Addon::Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("librdkafka", rd_kafka_version_str());
  o.Set("librdkafkaNumber", rd_kafka_version());
  const struct rd_kafka_err_desc* descs;
  size_t count;
  rd_kafka_get_err_descs(&descs, &count);
  Napi::Object errors = Napi::Object::New(env);
  for (size_t i = 0; i < count; i++) {
    if (descs[i].name == nullptr) continue;
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, std::string("ERR_") + descs[i].name);
    pair.Set(1u, descs[i].desc != nullptr ? descs[i].desc : "");
    errors.Set(Napi::Number::New(env, descs[i].code), pair);
  }
  o.Set("errors", errors);
  return o;
}

// The environment is going away (process exit, or a worker thread ending): destroy every producer and mock
// cluster still open and close every handle, then tell Node we are done once libuv has run the close callbacks. A handle
// left open would make a worker's loop close fail.
void Addon::AsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* self = static_cast<Addon*>(arg);
  self->cleanup_handle_ = nullptr;
  auto state = self->state_;
  state->tearing_down = true;
  std::vector<Closable*> open(state->closables.begin(), state->closables.end());
  for (Closable* c : open) c->CloseNow();
  std::vector<PollerCore*> pollers(state->pollers.begin(), state->pollers.end());
  for (PollerCore* p : pollers) p->Release();

  uv_loop_t* loop;
  napi_get_uv_event_loop(state->env, &loop);
  auto* marker = new uv_idle_t{};
  uv_idle_init(loop, marker);
  marker->data = handle;
  // Closed last, so its close callback runs in the same closing phase as every handle closed above.
  uv_close(reinterpret_cast<uv_handle_t*>(marker), [](uv_handle_t* h) {
    napi_remove_async_cleanup_hook(static_cast<napi_async_cleanup_hook_handle>(h->data));
    delete reinterpret_cast<uv_idle_t*>(h);
  });
}

}  // namespace kafka_fd

using kafka_fd::Addon;
NODE_API_ADDON(Addon)

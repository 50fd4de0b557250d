#pragma once
// librdkafka's mock cluster (rdkafka_mock.h): an in-process Kafka look-alike with fault hooks. It is the
// embedded broker of the sample and the fault injector of the tests; it needs an rd_kafka_t of its own.
// A running cluster holds a strong reference to its JS object: users keep only its address (producers
// reach it through the network, not through the object), so garbage collection must not stop it. It
// lives until close(), or until its environment goes away.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <napi.h>

#include <memory>

#include "addon.h"

namespace kafka_fd {

class MockCluster : public Napi::ObjectWrap<MockCluster>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit MockCluster(const Napi::CallbackInfo& info);  // (brokers: number)
  ~MockCluster() override;
  void CloseNow() override;  // environment teardown: destroy now, on this thread

 private:
  Napi::Value Bootstraps(const Napi::CallbackInfo& info);
  Napi::Value CreateTopic(const Napi::CallbackInfo& info);      // (name, partitions, replicationFactor)
  Napi::Value BrokerDown(const Napi::CallbackInfo& info);       // (brokerId)
  Napi::Value BrokerUp(const Napi::CallbackInfo& info);         // (brokerId)
  Napi::Value SetRtt(const Napi::CallbackInfo& info);           // (brokerId, ms)
  Napi::Value PushRequestErrors(const Napi::CallbackInfo& info);  // (apiKey, errorCodes[])
  Napi::Value SetPartitionLeader(const Napi::CallbackInfo& info); // (topic, partition, brokerId)
  Napi::Value Close(const Napi::CallbackInfo& info);            // -> Promise, destroyed off the JS thread
  void Check(Napi::Env env);
  void Check(Napi::Env env, rd_kafka_resp_err_t err, const char* what);

  void Forget();  // no longer running: drop the self-reference and leave the environment's registry

  std::shared_ptr<EnvState> state_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace kafka_fd

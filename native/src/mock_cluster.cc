#include "mock_cluster.h"

#include <string>
#include <thread>
#include <vector>

#include "kafka_error.h"
#include "util/promise_worker.h"

namespace kafka_fd {

Napi::Function MockCluster::Init(Napi::Env env) {
  return DefineClass(env, "NativeMockCluster",
                     {
                         InstanceMethod("bootstraps", &MockCluster::Bootstraps),
                         InstanceMethod("createTopic", &MockCluster::CreateTopic),
                         InstanceMethod("brokerDown", &MockCluster::BrokerDown),
                         InstanceMethod("brokerUp", &MockCluster::BrokerUp),
                         InstanceMethod("setRtt", &MockCluster::SetRtt),
                         InstanceMethod("pushRequestErrors", &MockCluster::PushRequestErrors),
                         InstanceMethod("setPartitionLeader", &MockCluster::SetPartitionLeader),
                         InstanceMethod("close", &MockCluster::Close),
                     });
}

MockCluster::MockCluster(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MockCluster>(info) {
  Napi::Env env = info.Env();
  state_ = Addon::State(env);
  int brokers = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  if (brokers < 1) throw KafkaError(env, "ERR__INVALID_ARG", "a mock cluster needs at least one broker");
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // This handle only hosts the cluster; it talks to no broker and has nothing to log.
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw KafkaError(env, "ERR__FAIL", std::string("mock cluster: ") + errstr);
  }
  cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
  if (cluster_ == nullptr) {
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    throw KafkaError(env, "ERR__FAIL", "mock cluster: rd_kafka_mock_cluster_new failed");
  }
  Ref();
  state_->closables.insert(this);
}

void MockCluster::Forget() {
  state_->closables.erase(this);
  Unref();
}

void MockCluster::CloseNow() {
  if (cluster_ == nullptr) return;
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(rk_);
  cluster_ = nullptr;
  rk_ = nullptr;
  Forget();
}

MockCluster::~MockCluster() {
  // A running cluster is never collected (it holds itself), so this is the environment's last sweep of a
  // cluster that was neither closed nor seen by the cleanup hook. Never block here: destroy on a thread.
  state_->closables.erase(this);
  if (cluster_ != nullptr) {
    rd_kafka_mock_cluster_t* cluster = cluster_;
    rd_kafka_t* rk = rk_;
    std::thread([cluster, rk] {
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
    }).detach();
  }
}

void MockCluster::Check(Napi::Env env) {
  if (cluster_ == nullptr) throw KafkaError(env, "ERR__STATE", "the mock cluster is closed");
}

void MockCluster::Check(Napi::Env env, rd_kafka_resp_err_t err, const char* what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw KafkaError(env, err, std::string("mock cluster: ") + what + ": " + rd_kafka_err2str(err));
}

Napi::Value MockCluster::Bootstraps(const Napi::CallbackInfo& info) {
  Check(info.Env());
  return Napi::String::New(info.Env(), rd_kafka_mock_cluster_bootstraps(cluster_));
}

Napi::Value MockCluster::CreateTopic(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env);
  std::string name = info[0].ToString();
  int partitions = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 1;
  int replication = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 1;
  Check(env, rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, replication), "createTopic");
  return env.Undefined();
}

Napi::Value MockCluster::BrokerDown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env);
  Check(env, rd_kafka_mock_broker_set_down(cluster_, info[0].As<Napi::Number>().Int32Value()), "brokerDown");
  return env.Undefined();
}

Napi::Value MockCluster::BrokerUp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env);
  Check(env, rd_kafka_mock_broker_set_up(cluster_, info[0].As<Napi::Number>().Int32Value()), "brokerUp");
  return env.Undefined();
}

Napi::Value MockCluster::SetRtt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env);
  Check(env,
        rd_kafka_mock_broker_set_rtt(cluster_, info[0].As<Napi::Number>().Int32Value(),
                                     info[1].As<Napi::Number>().Int32Value()),
        "setRtt");
  return env.Undefined();
}

Napi::Value MockCluster::PushRequestErrors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env);
  int16_t api_key = static_cast<int16_t>(info[0].As<Napi::Number>().Int32Value());
  Napi::Array codes = info[1].As<Napi::Array>();
  std::vector<rd_kafka_resp_err_t> errors;
  for (uint32_t i = 0; i < codes.Length(); i++)
    errors.push_back(static_cast<rd_kafka_resp_err_t>(codes.Get(i).As<Napi::Number>().Int32Value()));
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
  return env.Undefined();
}

Napi::Value MockCluster::SetPartitionLeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env);
  std::string topic = info[0].ToString();
  Check(env,
        rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), info[1].As<Napi::Number>().Int32Value(),
                                           info[2].As<Napi::Number>().Int32Value()),
        "setPartitionLeader");
  return env.Undefined();
}

Napi::Value MockCluster::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (cluster_ == nullptr) return ResolvedPromise(env);
  // The handles go to the threadpool: the cluster counts as closed from now on.
  rd_kafka_mock_cluster_t* cluster = cluster_;
  rd_kafka_t* rk = rk_;
  cluster_ = nullptr;
  rk_ = nullptr;
  Forget();
  return QueuePromiseWork(
      env, "kafka-fd-mock-close",
      [cluster, rk] {
        rd_kafka_mock_cluster_destroy(cluster);
        rd_kafka_destroy(rk);
      },
      [](Napi::Env, JsPromise& promise) { promise.Resolve(); });
}

}  // namespace kafka_fd

// The order round trip of `examples/fix_roundtrip.rs`, with QuickFIX (C++, 1.15) on both
// ends, in one process: a QuickFIX acceptor answers each NewOrderSingle with an
// ExecutionReport (New, the same fields as the workbench's FIX exchange sends), and a
// QuickFIX initiator sends the next NewOrderSingle from its callback when the report is
// in (one order in flight). Memory stores, no message log, no data dictionary (Debian ships
// no FIX44.xml; the workbench side validates, so this favours QuickFIX slightly).
//
//   roundtrip PORT [ORDERS] [WARMUP]
//
// Prints percentiles in microseconds, then a `RESULT {json}` line. Built by
// `build_one.sh roundtrip`.
#include <quickfix/Application.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

static long total = 22000, warmup = 2000;
static std::atomic<bool> done(false);
static std::vector<double> samples;

static FIX::Message order(long i) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("D"));
  m.setField(FIX::ClOrdID("o" + std::to_string(i)));
  m.setField(FIX::Symbol("MCLM4"));
  m.setField(FIX::Side(i % 2 == 0 ? '1' : '2'));
  m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
  m.setField(FIX::OrderQty(1));
  m.setField(FIX::OrdType('2'));
  m.setField(FIX::StringField(FIX::FIELD::Price, i % 2 == 0 ? "60.25" : "80.75"));
  m.setField(FIX::TimeInForce('1'));
  return m;
}

class Acceptor : public FIX::Application {
 public:
  long next_id = 1;
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {}
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {}
  void fromApp(const FIX::Message& m, const FIX::SessionID& id) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    const long n = next_id++;
    FIX::Message er;
    er.getHeader().setField(FIX::MsgType("8"));
    er.setField(FIX::OrderID("65f1a2b3-" + std::to_string(n)));
    er.setField(FIX::ClOrdID(m.getField(FIX::FIELD::ClOrdID)));
    er.setField(FIX::ExecID("65f1a2b3-" + std::to_string(n)));
    er.setField(FIX::ExecType('0'));
    er.setField(FIX::OrdStatus('0'));
    er.setField(FIX::Symbol(m.getField(FIX::FIELD::Symbol)));
    er.setField(FIX::StringField(FIX::FIELD::Side, m.getField(FIX::FIELD::Side)));
    er.setField(FIX::StringField(FIX::FIELD::OrderQty, m.getField(FIX::FIELD::OrderQty)));
    er.setField(FIX::StringField(FIX::FIELD::OrdType, m.getField(FIX::FIELD::OrdType)));
    er.setField(FIX::StringField(FIX::FIELD::Price, m.getField(FIX::FIELD::Price)));
    er.setField(FIX::StringField(FIX::FIELD::TimeInForce, m.getField(FIX::FIELD::TimeInForce)));
    er.setField(FIX::StringField(FIX::FIELD::LeavesQty, m.getField(FIX::FIELD::OrderQty)));
    er.setField(FIX::StringField(FIX::FIELD::CumQty, "0"));
    er.setField(FIX::StringField(FIX::FIELD::AvgPx, "0"));
    er.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
    FIX::Session::sendToTarget(er, id);
  }
};

class Initiator : public FIX::Application {
 public:
  long sent = 0;
  Clock::time_point t;
  void send(const FIX::SessionID& id) {
    FIX::Message m = order(sent);
    t = Clock::now();
    FIX::Session::sendToTarget(m, id);
    ++sent;
  }
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& id) override { send(id); }
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {}
  void fromApp(const FIX::Message&, const FIX::SessionID& id) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t).count();
    if (sent > warmup) samples.push_back(ns);
    if (sent < total) {
      send(id);
    } else {
      done = true;
    }
  }
};

static double pct(const std::vector<double>& v, double q) {
  size_t i = std::min(v.size() - 1, (size_t)(q * (double)v.size()));
  return v[i] / 1000.0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: roundtrip PORT [ORDERS] [WARMUP]" << std::endl;
    return 2;
  }
  long orders = argc > 2 ? std::stol(argv[2]) : 20000;
  warmup = argc > 3 ? std::stol(argv[3]) : 2000;
  total = orders + warmup;
  samples.reserve(orders);
  auto settings_for = [&](bool acceptor) {
    std::ostringstream cfg;
    cfg << "[DEFAULT]\nConnectionType=" << (acceptor ? "acceptor" : "initiator")
        << "\nBeginString=FIX.4.4\nSenderCompID=" << (acceptor ? "EXCH" : "CLIENT")
        << "\nTargetCompID=" << (acceptor ? "CLIENT" : "EXCH")
        << "\nStartTime=00:00:00\nEndTime=00:00:00\nHeartBtInt=30\nUseDataDictionary=N\n"
        << "ReconnectInterval=1\nResetOnLogon=Y\nSocketNodelay=Y\n"
        << (acceptor ? "SocketAcceptPort=" : "SocketConnectHost=127.0.0.1\nSocketConnectPort=")
        << argv[1] << "\n[SESSION]\n";
    std::istringstream in(cfg.str());
    return FIX::SessionSettings(in);
  };
  try {
    Acceptor acc_app;
    Initiator ini_app;
    FIX::MemoryStoreFactory acc_store, ini_store;
    FIX::SessionSettings acc_settings = settings_for(true), ini_settings = settings_for(false);
    FIX::SocketAcceptor acc(acc_app, acc_store, acc_settings);
    acc.start();
    auto start = Clock::now();
    FIX::SocketInitiator ini(ini_app, ini_store, ini_settings);
    ini.start();
    for (int i = 0; i < 6000 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    ini.stop();
    acc.stop();
    if (!done) {
      std::cerr << "timed out after " << ini_app.sent << " orders" << std::endl;
      return 1;
    }
    std::sort(samples.begin(), samples.end());
    printf("quickfix roundtrip (QuickFIX initiator -> QuickFIX acceptor): %zu orders after %ld "
           "warm-up, %.0f orders/s\n", samples.size(), warmup, (double)total / secs);
    printf("  p50 %.1f us  p90 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
           pct(samples, 0.5), pct(samples, 0.9), pct(samples, 0.99), pct(samples, 0.999),
           samples.back() / 1000.0);
    printf("RESULT {\"engine\": \"quickfix\", \"orders\": %zu, \"p50_us\": %.2f, \"p90_us\": "
           "%.2f, \"p99_us\": %.2f, \"p999_us\": %.2f, \"max_us\": %.2f}\n",
           samples.size(), pct(samples, 0.5), pct(samples, 0.9), pct(samples, 0.99),
           pct(samples, 0.999), samples.back() / 1000.0);
    return 0;
  } catch (std::exception& e) {
    std::cerr << "ERROR " << e.what() << std::endl;
    return 3;
  }
}

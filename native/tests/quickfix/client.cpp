// A QuickFIX (C++, 1.15) initiator that trades with `workbench fix-exchange` (as QF, to WB):
// a marketable buy (qf-1: 4 @ 70.02), then a resting GTC buy (qf-2: 2 @ 69.50), replaced
// (qf-3: 3 @ 69.75), then cancelled (qf-4); logs out after the cancel.
//
//   client PORT DIR
//
// Prints LOGON, EXEC <ClOrdID> <ExecType> <OrdStatus>, LOGOUT lines on stdout. Memory
// store, no log files. Built by build_one.sh client.
#include <quickfix/Application.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

static std::atomic<bool> done(false);

static FIX::Message order(const char* type, const std::string& id, int qty, double px) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType(type));
  m.setField(FIX::ClOrdID(id));
  m.setField(FIX::Symbol("MCLM4"));
  m.setField(FIX::Side('1'));
  m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
  if (qty > 0) {
    m.setField(FIX::OrderQty(qty));
    m.setField(FIX::OrdType('2'));
    m.setField(FIX::Price(px));
  }
  return m;
}

class App : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& id) override {
    std::cout << "LOGON" << std::endl;
    FIX::Message m = order("D", "qf-1", 4, 70.02);
    FIX::Session::sendToTarget(m, id);
  }
  void onLogout(const FIX::SessionID&) override {
    std::cout << "LOGOUT" << std::endl;
    done = true;
  }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {}
  void fromApp(const FIX::Message& m, const FIX::SessionID& id) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    const std::string type = m.getHeader().getField(FIX::FIELD::MsgType);
    if (type != "8") {
      std::cout << "OTHER " << type << std::endl;
      return;
    }
    const std::string cl = m.getField(FIX::FIELD::ClOrdID);
    const std::string et = m.getField(FIX::FIELD::ExecType);
    const std::string st = m.getField(FIX::FIELD::OrdStatus);
    std::cout << "EXEC " << cl << " " << et << " " << st << std::endl;
    if (cl == "qf-1" && st == "2") {
      FIX::Message m2 = order("D", "qf-2", 2, 69.5);
      m2.setField(FIX::TimeInForce('1'));
      FIX::Session::sendToTarget(m2, id);
    } else if (cl == "qf-2" && et == "0") {
      FIX::Message r = order("G", "qf-3", 3, 69.75);
      r.setField(FIX::OrigClOrdID("qf-2"));
      r.setField(FIX::TimeInForce('1'));
      FIX::Session::sendToTarget(r, id);
    } else if (cl == "qf-3" && et == "5") {
      FIX::Message c = order("F", "qf-4", 0, 0);
      c.setField(FIX::OrigClOrdID("qf-3"));
      FIX::Session::sendToTarget(c, id);
    } else if (cl == "qf-4") {
      FIX::Session::lookupSession(id)->logout("done");
    }
  }
};

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: client PORT DIR" << std::endl;
    return 2;
  }
  std::ostringstream cfg;
  cfg << "[DEFAULT]\nConnectionType=initiator\nBeginString=FIX.4.4\n"
      << "SenderCompID=QF\nTargetCompID=WB\nStartTime=00:00:00\nEndTime=00:00:00\n"
      << "HeartBtInt=30\nUseDataDictionary=N\nReconnectInterval=1\nResetOnLogon=Y\n"
      << "SocketConnectHost=127.0.0.1\nSocketConnectPort=" << argv[1] << "\n[SESSION]\n";
  std::istringstream in(cfg.str());
  try {
    FIX::SessionSettings settings(in);
    App app;
    FIX::MemoryStoreFactory store;
    FIX::SocketInitiator ini(app, store, settings);
    ini.start();
    for (int i = 0; i < 300 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ini.stop();
    return done ? 0 : 1;
  } catch (std::exception& e) {
    std::cerr << "ERROR " << e.what() << std::endl;
    return 3;
  }
}

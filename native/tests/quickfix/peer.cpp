// A QuickFIX (C++, 1.15) counterparty for the interoperability tests of the native FIX engine.
//
//   peer acceptor  PORT DIR   listens as SenderCompID=QF for TargetCompID=WB; answers each
//                             NewOrderSingle with a filled ExecutionReport; exits after the
//                             first Logout (or after 30 s).
//   peer initiator PORT DIR   connects as QF to WB, sends one NewOrderSingle on Logon, logs
//                             out on its ExecutionReport, exits.
//
// Prints LOGON, ORDER <ClOrdID>, EXEC <ClOrdID> <ExecType> <OrdStatus>, LOGOUT lines on stdout.
// The Debian package ships no FIX44.xml, so QuickFIX runs without a data dictionary
// (UseDataDictionary=N): it checks framing, sequence numbers and session rules only.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

static std::atomic<bool> done(false);
static bool initiator = false;
static int exec_id = 0;

static FIX::Message new_order() {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("D"));
  m.setField(FIX::ClOrdID("qf-1"));
  m.setField(FIX::Symbol("MCLZ5"));
  m.setField(FIX::Side('1'));
  m.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
  m.setField(FIX::OrderQty(2));
  m.setField(FIX::OrdType('2'));
  m.setField(FIX::Price(71.25));
  return m;
}

class App : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& id) override {
    std::cout << "LOGON" << std::endl;
    if (initiator) {
      FIX::Message m = new_order();
      FIX::Session::sendToTarget(m, id);
    }
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
    if (type == "D") {
      const std::string clid = m.getField(FIX::FIELD::ClOrdID);
      std::cout << "ORDER " << clid << std::endl;
      FIX::Message er;
      er.getHeader().setField(FIX::MsgType("8"));
      er.setField(FIX::OrderID("QF-" + clid));
      er.setField(FIX::ClOrdID(clid));
      er.setField(FIX::ExecID("E" + std::to_string(++exec_id)));
      er.setField(FIX::ExecType('F'));
      er.setField(FIX::OrdStatus('2'));
      er.setField(FIX::Symbol(m.getField(FIX::FIELD::Symbol)));
      er.setField(FIX::Side(m.getField(FIX::FIELD::Side)[0]));
      er.setField(FIX::OrderQty(std::stod(m.getField(FIX::FIELD::OrderQty))));
      er.setField(FIX::LastQty(std::stod(m.getField(FIX::FIELD::OrderQty))));
      er.setField(FIX::LastPx(std::stod(m.getField(FIX::FIELD::Price))));
      er.setField(FIX::LeavesQty(0));
      er.setField(FIX::CumQty(std::stod(m.getField(FIX::FIELD::OrderQty))));
      er.setField(FIX::AvgPx(std::stod(m.getField(FIX::FIELD::Price))));
      er.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
      FIX::Session::sendToTarget(er, id);
    } else if (type == "8") {
      std::cout << "EXEC " << m.getField(FIX::FIELD::ClOrdID) << " "
                << m.getField(FIX::FIELD::ExecType) << " "
                << m.getField(FIX::FIELD::OrdStatus) << std::endl;
      if (initiator) FIX::Session::lookupSession(id)->logout("done");
    } else {
      throw FIX::UnsupportedMessageType();
    }
  }
};

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: peer acceptor|initiator PORT DIR" << std::endl;
    return 2;
  }
  initiator = std::string(argv[1]) == "initiator";
  std::ostringstream cfg;
  cfg << "[DEFAULT]\nConnectionType=" << argv[1] << "\nBeginString=FIX.4.4\n"
      << "SenderCompID=QF\nTargetCompID=WB\nStartTime=00:00:00\nEndTime=00:00:00\n"
      << "HeartBtInt=30\nUseDataDictionary=N\nReconnectInterval=1\n"
      << "FileStorePath=" << argv[3] << "/store\nFileLogPath=" << argv[3] << "/log\n"
      << (initiator ? "SocketConnectHost=127.0.0.1\nSocketConnectPort="
                    : "SocketAcceptPort=")
      << argv[2] << "\n[SESSION]\n";
  std::istringstream in(cfg.str());
  try {
    FIX::SessionSettings settings(in);
    App app;
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    std::unique_ptr<FIX::Initiator> ini;
    std::unique_ptr<FIX::Acceptor> acc;
    if (initiator) {
      ini.reset(new FIX::SocketInitiator(app, store, settings, log));
      ini->start();
    } else {
      acc.reset(new FIX::SocketAcceptor(app, store, settings, log));
      acc->start();
      std::cout << "LISTENING" << std::endl;
    }
    for (int i = 0; i < 300 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (ini) ini->stop();
    if (acc) acc->stop();
    return done ? 0 : 1;
  } catch (std::exception& e) {
    std::cerr << "ERROR " << e.what() << std::endl;
    return 3;
  }
}

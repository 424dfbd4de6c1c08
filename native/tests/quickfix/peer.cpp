// A QuickFIX (C++, 1.15) counterparty for the interoperability tests of the native FIX engine
// (native/tests/fix_net.rs): a scripted puppet with no business logic of its own.
//
//   peer acceptor|initiator PORT DIR [HH:MM:SS-HH:MM:SS]
//
// Session QF -> WB, FIX.4.4, HeartBtInt=30, file store and logs in DIR (a second run with the
// same DIR resumes the sequence, as QuickFIX does). The initiator connects to 127.0.0.1:PORT
// (and reconnects every second while its session is enabled); the acceptor listens on PORT.
// The optional window is the daily session (StartTime-EndTime, UTC; default all day): a
// store created before the current window began is reset, as QuickFIX does each day.
//
// stdout, one line each:  READY | LOGON | LOGOUT | IN <message> | OUT <message>
//   (every message QuickFIX accepted or sent, with SOH shown as '|'; a message QuickFIX
//   drops, such as a PossDup duplicate, never shows as IN)
// stdin, one command a line:
//   send 35=D|11=x|...   send an application message (header tags go to the header)
//   seq N                shift the next outgoing MsgSeqNum by N (+1 makes a gap, -2 too low)
//   logout [TEXT]        log out (an initiator then stays off until "logon")
//   logon                enable the session again (an initiator reconnects)
//   quit                 stop and exit 0 (also on end of input)
//
// The Debian package ships no FIX44.xml, so QuickFIX runs without a data dictionary
// (UseDataDictionary=N): it checks framing, sequence numbers and session rules only.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <algorithm>
#include <iostream>
#include <mutex>
#include <sstream>

static std::mutex out_mutex;

static void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::cout << line << std::endl;
}

static void say(const char* what, const FIX::Message& m) {
  std::string s = m.toString();
  std::replace(s.begin(), s.end(), '\x01', '|');
  say(std::string(what) + " " + s);
}

class App : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override { say("LOGON"); }
  void onLogout(const FIX::SessionID&) override { say("LOGOUT"); }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override { say("OUT", m); }
  void toApp(FIX::Message& m, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    say("OUT", m);
  }
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::RejectLogon) override {
    say("IN", m);
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {
    say("IN", m);
  }
};

// "35=D|11=x|..." -> a message (35 and other header tags in the header).
static FIX::Message parse(const std::string& fields) {
  FIX::Message m;
  std::istringstream in(fields);
  std::string f;
  while (std::getline(in, f, '|')) {
    const auto eq = f.find('=');
    if (eq == std::string::npos) continue;
    const int tag = std::stoi(f.substr(0, eq));
    const std::string value = f.substr(eq + 1);
    if (FIX::Message::isHeaderField(tag))
      m.getHeader().setField(tag, value);
    else
      m.setField(tag, value);
  }
  return m;
}

static void run(FIX::Session& session, const std::string& cmd, const std::string& arg) {
  if (cmd == "send") {
    FIX::Message m = parse(arg);
    session.send(m);
  } else if (cmd == "seq") {
    session.setNextSenderMsgSeqNum(session.getExpectedSenderNum() + std::stoi(arg));
  } else if (cmd == "logout") {
    session.logout(arg);
  } else if (cmd == "logon") {
    session.logon();
  } else {
    say("ERROR unknown command " + cmd);
  }
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: peer acceptor|initiator PORT DIR [HH:MM:SS-HH:MM:SS]" << std::endl;
    return 2;
  }
  const bool initiator = std::string(argv[1]) == "initiator";
  const std::string window = argc == 5 ? argv[4] : "00:00:00-00:00:00";
  std::ostringstream cfg;
  cfg << "[DEFAULT]\nConnectionType=" << argv[1] << "\nBeginString=FIX.4.4\n"
      << "SenderCompID=QF\nTargetCompID=WB\nStartTime=" << window.substr(0, 8)
      << "\nEndTime=" << window.substr(9) << "\n"
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
    }
    FIX::Session* session = FIX::Session::lookupSession(FIX::SessionID("FIX.4.4", "QF", "WB"));
    say("READY");
    std::string line;
    while (std::getline(std::cin, line) && line != "quit") {
      const auto sp = line.find(' ');
      const std::string cmd = line.substr(0, sp);
      run(*session, cmd, sp == std::string::npos ? "" : line.substr(sp + 1));
    }
    if (ini) ini->stop(true);
    if (acc) acc->stop(true);
    return 0;
  } catch (std::exception& e) {
    std::cerr << "ERROR " << e.what() << std::endl;
    return 3;
  }
}

// The bench_handshakes workload in ns-3, for the ns-3 row of scripts/bench_compare.sh.
//
// One client node and one server node on a point-to-point link with 1 ms one-way delay. The
// client opens connections to the server's port 80 at Poisson arrivals (rate_per_s); each one
// is a three-way handshake followed by a close, client FIN first; the server closes when it
// sees the client's FIN. Maximum segment lifetime 0.5 s (TIME-WAIT 1 s), as bench_handshakes
// sets msl_ms 500. Prints the handshakes completed and the wall time of the simulation.
//
// Build (Debian's libns3-dev):
//   g++ -O2 -std=c++17 -I/usr/include scripts/ns3/handshakes.cc -o handshakes \
//       $(pkg-config --libs ns3-core ns3-network ns3-internet ns3-point-to-point)
// Usage: handshakes [rate_per_s] [seconds]

#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace ns3;

namespace
{

uint64_t g_started = 0;
uint64_t g_established = 0;
uint64_t g_failed = 0;
Ptr<Node> g_client;
Address g_server;
Ptr<ExponentialRandomVariable> g_gap;
double g_stop = 0;

void
OnConnected(Ptr<Socket> s)
{
    ++g_established;
    s->Close();
}

void
OnFailed(Ptr<Socket>)
{
    ++g_failed;
}

void
Ignore(Ptr<Socket>)
{
}

void
Arrival()
{
    Ptr<Socket> s = Socket::CreateSocket(g_client, TcpSocketFactory::GetTypeId());
    if (s->Bind() == 0 && s->Connect(g_server) == 0)
    {
        ++g_started;
        s->SetConnectCallback(MakeCallback(&OnConnected), MakeCallback(&OnFailed));
        s->SetCloseCallbacks(MakeCallback(&Ignore), MakeCallback(&Ignore));
    }
    else
    {
        ++g_failed;
    }
    double next = g_gap->GetValue();
    if (Simulator::Now().GetSeconds() + next < g_stop)
    {
        Simulator::Schedule(Seconds(next), &Arrival);
    }
}

void
CloseLater(Ptr<Socket> s)
{
    s->Close();
}

// The client's FIN arrived (ns-3 reports it as the socket's normal close): close our side
// once the current event is over.
void
ServerPeerClosed(Ptr<Socket> s)
{
    Simulator::ScheduleNow(&CloseLater, s);
}

void
ServerRecv(Ptr<Socket> s)
{
    while (s->Recv())
    {
    }
}

void
ServerAccepted(Ptr<Socket> s, const Address&)
{
    s->SetRecvCallback(MakeCallback(&ServerRecv));
    s->SetCloseCallbacks(MakeCallback(&ServerPeerClosed), MakeCallback(&Ignore));
}

bool
Accept(Ptr<Socket>, const Address&)
{
    return true;
}

} // namespace

int
main(int argc, char* argv[])
{
    double rate = argc > 1 ? std::atof(argv[1]) : 10000;
    g_stop = argc > 2 ? std::atof(argv[2]) : 60;

    Config::SetDefault("ns3::TcpSocketBase::MaxSegLifetime", DoubleValue(0.5));
    Config::SetDefault("ns3::TcpSocket::ConnCount", UintegerValue(3));

    NodeContainer nodes;
    nodes.Create(2);
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue("100Gbps"));
    p2p.SetChannelAttribute("Delay", StringValue("1ms"));
    p2p.SetQueue("ns3::DropTailQueue", "MaxSize", StringValue("100000p"));
    NetDeviceContainer devs = p2p.Install(nodes);
    InternetStackHelper stack;
    stack.Install(nodes);
    Ipv4AddressHelper ip;
    ip.SetBase("10.0.9.0", "255.255.255.0");
    Ipv4InterfaceContainer ifs = ip.Assign(devs);

    Ptr<Socket> listener = Socket::CreateSocket(nodes.Get(1), TcpSocketFactory::GetTypeId());
    listener->Bind(InetSocketAddress(Ipv4Address::GetAny(), 80));
    listener->Listen();
    listener->SetAcceptCallback(MakeCallback(&Accept), MakeCallback(&ServerAccepted));

    g_client = nodes.Get(0);
    g_server = InetSocketAddress(ifs.GetAddress(1), 80);
    g_gap = CreateObject<ExponentialRandomVariable>();
    g_gap->SetAttribute("Mean", DoubleValue(1.0 / rate));
    Simulator::Schedule(Seconds(g_gap->GetValue()), &Arrival);
    Simulator::Stop(Seconds(g_stop + 5));

    auto w0 = std::chrono::steady_clock::now();
    Simulator::Run();
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    Simulator::Destroy();
    std::printf("started %llu established %llu failed %llu wall_s %.3f handshakes_per_wall_s %.0f\n",
                (unsigned long long)g_started,
                (unsigned long long)g_established,
                (unsigned long long)g_failed,
                wall,
                g_established / wall);
    return 0;
}

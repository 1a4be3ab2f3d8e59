// libpcap for Swift: only the filter compiler (pcap_compile on a dead handle) and the BPF
// interpreter (pcap_offline_filter); vsquare reads frames itself, never through libpcap.
#ifndef CPCAP_SHIM_H
#define CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif

// ARP packets to Slips' arp.log records (zeek-scripts/arp.zeek): one record per request or
// reply; orig_h / resp_h are the sender / target protocol addresses, orig_hw / resp_hw the
// ARP header's hardware addresses and src_mac / dst_mac the Ethernet ones. Other operations
// (RARP, InARP) are not logged, like Zeek's ARP analyzer.

import type { ArpRecord } from '../records.js';
import { type Decoded, KIND_ARP, macString } from './decode.js';

/** The ArpRecord of a decoded ARP packet, or undefined for other operations. */
export function arpRecord(d: Decoded, ts: number, interfaceName: string): ArpRecord | undefined {
  if (d.kind !== KIND_ARP || (d.arpOp !== 1 && d.arpOp !== 2)) return undefined;
  const frame = d.frame;
  return {
    kind: 'arp',
    ts,
    uid: '',
    saddr: d.arpSpa,
    daddr: d.arpTpa,
    interface: interfaceName,
    source: 'pcap',
    operation: d.arpOp === 1 ? 'request' : 'reply',
    src_hw: macString(d.data, d.arpShaOff),
    dst_hw: macString(d.data, d.arpThaOff),
    smac: d.srcMacOff >= 0 ? macString(frame, d.srcMacOff) : '',
    dmac: d.dstMacOff >= 0 ? macString(frame, d.dstMacOff) : '',
  };
}

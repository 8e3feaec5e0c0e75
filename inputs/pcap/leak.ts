// Payload patterns of Slips' leak detector (detections spec §4.5), matched in TypeScript on each
// TCP/UDP packet payload instead of running YARA over the pcap. Rule NETWORK_gps_location_leaked:
// a latitude and a longitude given as `<name>":<number>` or `<name>=<number>` (both needed), or one
// of locations/ll/q/latlon/path followed by `<number>,<number>`. Numbers look like -?ddd.dd(…16).

/** One match of a rule in a payload. */
export interface PayloadMatch {
  rule: string;
  matched: string;
}

const NUMBER = String.raw`-?\d{1,3}\.\d{2,16}`;
const SEPARATOR = String.raw`(?:":|=)`;
const LATITUDE = new RegExp(String.raw`(?:lat|latitude)${SEPARATOR}\s*${NUMBER}`, 'i');
const LONGITUDE = new RegExp(String.raw`(?:lon|lng|long|longitude)${SEPARATOR}\s*${NUMBER}`, 'i');
const PAIR = new RegExp(String.raw`(?:locations|ll|q|latlon|path)${SEPARATOR}\s*${NUMBER},\s*${NUMBER}`, 'i');
/** Cheap test before the regular expressions: every rule needs one of these letters runs. */
const HINT = /la|ll|q|pa|lo/i;

export const GPS_RULE = 'NETWORK_gps_location_leaked';
/** Bytes of a payload that are searched (patterns sit in request lines and small bodies). */
const MAX_SCAN_BYTES = 16 * 1024;

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/**
 * Cheapest test, on the bytes (no string is made for most payloads): every rule needs a number
 * with a fraction, i.e. a digit, '.', then two digits.
 */
function hasDecimal(payload: Buffer, end: number): boolean {
  for (let i = payload.indexOf(0x2e, 1); i !== -1 && i + 2 < end; i = payload.indexOf(0x2e, i + 1)) {
    if (isDigit(payload[i - 1]) && isDigit(payload[i + 1]) && isDigit(payload[i + 2])) return true;
  }
  return false;
}

/** The GPS-leak match in a payload, if any. */
export function findLocationLeak(payload: Buffer): PayloadMatch | undefined {
  if (payload.length < 8) return undefined;
  const end = Math.min(payload.length, MAX_SCAN_BYTES);
  if (!hasDecimal(payload, end)) return undefined;
  const text = payload.toString('latin1', 0, end);
  if (!HINT.test(text)) return undefined;
  const latitude = LATITUDE.exec(text);
  if (latitude !== null) {
    const longitude = LONGITUDE.exec(text);
    if (longitude !== null) return { rule: GPS_RULE, matched: `${latitude[0]} ${longitude[0]}` };
  }
  const pair = PAIR.exec(text);
  return pair === null ? undefined : { rule: GPS_RULE, matched: pair[0] };
}

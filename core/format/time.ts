// Time texts as Slips writes them: Python strftime/isoformat renderings of unix seconds in the
// local timezone (process.env.TZ), with Python's microsecond rounding, plus the human-readable
// time-window width used in the stats line.
//
// One deliberate difference: Slips formats float timestamps as naive datetimes (so `%z` comes out
// empty) and converts with the UTC offset that was current when it started. Here every instant
// carries its own local offset (DST-aware), e.g. `2023/11/24 13:16:57.314165+0100`.

/** Slips' "alerts format": `%Y/%m/%d %H:%M:%S.%f%z`. */
export const ALERTS_FORMAT = '%Y/%m/%d %H:%M:%S.%f%z';

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** Local offset from UTC in seconds (east positive). */
  offsetSeconds: number;
}

/** Python's round(): half to even. */
function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  if (rounded - value === 0.5 && rounded % 2 !== 0) return rounded - 1;
  return rounded;
}

/** Whole seconds and microseconds of unix seconds, rounded as datetime.fromtimestamp does. */
function splitSeconds(ts: number): [number, number] {
  let whole = Math.floor(ts);
  let microsecond = roundHalfEven((ts - whole) * 1e6);
  if (microsecond >= 1_000_000) {
    whole += 1;
    microsecond -= 1_000_000;
  }
  return [whole, microsecond];
}

/** Splits unix seconds into local calendar fields the way datetime.fromtimestamp does. */
function localTime(ts: number): LocalTime {
  const [whole, microsecond] = splitSeconds(ts);
  const date = new Date(whole * 1000);
  const fields = {
    year: date.getFullYear(),
    month: date.getMonth() + 1,
    day: date.getDate(),
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
  };
  const asUtc = new Date(0);
  asUtc.setUTCFullYear(fields.year, fields.month - 1, fields.day);
  asUtc.setUTCHours(fields.hour, fields.minute, fields.second, 0);
  const offsetSeconds = Math.round((asUtc.getTime() - whole * 1000) / 1000);
  return { ...fields, microsecond, offsetSeconds };
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Python's %z (`+0100`, `-0330`, seconds only when non-zero) or, with a separator, isoformat's `+01:00`. */
function formatOffset(offsetSeconds: number, separator: string): string {
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  const hours = Math.floor(abs / 3600);
  const minutes = Math.floor((abs % 3600) / 60);
  const seconds = abs % 60;
  const base = `${sign}${pad(hours, 2)}${separator}${pad(minutes, 2)}`;
  return seconds === 0 ? base : `${base}${separator}${pad(seconds, 2)}`;
}

/**
 * Python strftime of the local-time aware datetime for `ts` (unix seconds).
 * Supports %Y %m %d %H %M %S %f %z %%; any other character is copied.
 */
export function strftime(ts: number, format: string): string {
  const t = localTime(ts);
  return format.replace(/%([YmdHMSfz%])/g, (_match, code: string) => {
    switch (code) {
      case 'Y': return pad(t.year, 4);
      case 'm': return pad(t.month, 2);
      case 'd': return pad(t.day, 2);
      case 'H': return pad(t.hour, 2);
      case 'M': return pad(t.minute, 2);
      case 'S': return pad(t.second, 2);
      case 'f': return pad(t.microsecond, 6);
      case 'z': return formatOffset(t.offsetSeconds, '');
      default: return '%';
    }
  });
}

/**
 * The per-hour parts of a rendering (date, hour, zone), cached by UTC hour: this is on the per-flow
 * path and flows of one hour share them. Minutes and seconds are plain arithmetic. Assumes local
 * offsets change only on whole UTC hours (true of every zone with DST); other instants still get
 * their exact offset, as the cache is keyed by the UTC hour the offset was computed for.
 */
interface HourParts {
  /** `YYYY/MM/DD HH` */
  alertsPrefix: string;
  /** `+0100` */
  alertsZone: string;
  /** `YYYY-MM-DDTHH` */
  isoPrefix: string;
  /** `+01:00` */
  isoZone: string;
  /** Local seconds past the local hour at the start of this UTC hour. */
  localSecondsAtUtcHour: number;
}

const HOUR_CACHE_LIMIT = 10_000;
const hourCache = new Map<number, HourParts>();

function hourPartsOfLocal(t: LocalTime): HourParts {
  const date = `${pad(t.year, 4)}/${pad(t.month, 2)}/${pad(t.day, 2)} ${pad(t.hour, 2)}`;
  return {
    alertsPrefix: date,
    alertsZone: formatOffset(t.offsetSeconds, ''),
    isoPrefix: date.replaceAll('/', '-').replace(' ', 'T'),
    isoZone: formatOffset(t.offsetSeconds, ':'),
    localSecondsAtUtcHour: t.minute * 60 + t.second,
  };
}

function hourPartsOf(utcHour: number): HourParts {
  let parts = hourCache.get(utcHour);
  if (parts === undefined) {
    parts = hourPartsOfLocal(localTime(utcHour * 3600));
    if (hourCache.size >= HOUR_CACHE_LIMIT) hourCache.clear();
    hourCache.set(utcHour, parts);
  }
  return parts;
}

/** [hour parts, `:MM:SS` of the local time, microseconds] of unix seconds. */
function partsOf(ts: number): [HourParts, string, number] {
  const [whole, microsecond] = splitSeconds(ts);
  const utcHour = Math.floor(whole / 3600);
  const parts = hourPartsOf(utcHour);
  const intoHour = parts.localSecondsAtUtcHour + (whole - utcHour * 3600);
  if (intoHour >= 3600) {
    // A zone with a non-whole-hour offset crosses its local hour inside this UTC hour.
    const t = localTime(whole);
    return [hourPartsOfLocal(t), `:${pad(t.minute, 2)}:${pad(t.second, 2)}`, microsecond];
  }
  return [parts, `:${pad(Math.floor(intoHour / 60), 2)}:${pad(intoHour % 60, 2)}`, microsecond];
}

/** `2023/11/24 13:16:57.314165+0100`: evidence timestamps, slips.log prefixes, "real time". */
export function alertsFormat(ts: number): string {
  const [parts, minutesSeconds, microsecond] = partsOf(ts);
  return `${parts.alertsPrefix}${minutesSeconds}.${pad(microsecond, 6)}${parts.alertsZone}`;
}

/** Python `datetime.isoformat()` of the local aware datetime: `2019-04-04T16:23:00.325010+02:00` (no fraction when 0). */
export function isoLocal(ts: number): string {
  const [parts, minutesSeconds, microsecond] = partsOf(ts);
  const fraction = microsecond === 0 ? '' : `.${pad(microsecond, 6)}`;
  return `${parts.isoPrefix}${minutesSeconds}${fraction}${parts.isoZone}`;
}

/** `%Y/%m/%d %H:%M:%S`: stats line, time-window limits in the CLI alert. */
export function humanTime(ts: number): string {
  return strftime(ts, '%Y/%m/%d %H:%M:%S');
}

/** Current time as unix seconds (float, millisecond resolution). */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/**
 * Time-window width for the stats line: `<v> day/hr/min/second` parts, `s` appended when v != 1,
 * zero parts dropped, whole seconds (truncated); `0 seconds` when nothing is left.
 * 3600 -> `1 hr`; 9999999999 -> `115740 days 17 hrs 46 mins 39 seconds`.
 */
export function formatWidth(seconds: number): string {
  const total = Math.trunc(Math.round(seconds * 1e6) / 1e6);
  const units: ReadonlyArray<readonly [string, number]> = [
    ['day', Math.floor(total / 86400)],
    ['hr', Math.floor((total % 86400) / 3600)],
    ['min', Math.floor((total % 3600) / 60)],
    ['second', total % 60],
  ];
  const parts = units
    .filter(([, value]) => value > 0)
    .map(([unit, value]) => `${value} ${unit}${value !== 1 ? 's' : ''}`);
  return parts.length > 0 ? parts.join(' ') : '0 seconds';
}

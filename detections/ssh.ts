// SSH checks (detections spec §3.4, §4.1): SSH_SUCCESSFUL from ssh.log joined with the conn.log
// flow of the same uid (fix #19: Zeek's boolean auth_success; once per profile + time window +
// server, fix #23), and Slips' brute_force_detector PASSWORD_GUESSING: failed attempts counted per
// profile + time window + server + port and reported on log2 buckets, with a confidence raised by
// the client banner (software.log or ssh.log) and by Zeek's Password_Guessing notice.

import type { NoticeRecord, SoftwareRecord, SshRecord } from '../inputs/records.js';
import type { JoinedFlow } from './connByUid.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { pyFloat, pyRound } from './format.js';
import { isValidIp } from './ip.js';

/** Seconds of network time an ssh.log record waits for its conn.log flow (Slips: 15 s). */
const SSH_CONN_WAIT = 15;
/** Attempts at which the confidence of a campaign reaches 1 (or the threshold, if higher). */
const FULL_CONFIDENCE_ATTEMPTS = 30;
/** Most recent uids kept per campaign. */
const MAX_CAMPAIGN_UIDS = 100;
/** Banner tokens of brute-forcing libraries and tools (+0.07 confidence). */
const TOOL_BANNERS = ['libssh', 'libssh2', 'paramiko', 'hydra', 'medusa', 'ncrack', 'net::ssh', 'net-ssh', 'asyncssh', 'jsch', 'sshj'];
/** Banner tokens of interactive clients (+0.02 confidence). */
const CLIENT_BANNERS = ['openssh', 'putty', 'dropbear', 'winscp'];

/** Failed attempts of one profile against one server port in one time window. */
interface Campaign {
  attempts: number;
  /** floor(log2(attempts - threshold + 1)) at the last report; -1 before the first. */
  bucket: number;
  uids: string[];
}

/** What Zeek's Password_Guessing notice said about this profile + time window. */
interface NoticeConfirmation {
  confirmed: boolean;
  /** Largest "seen in N connections" of the notices. */
  attempts: number;
}

function noticeOf(ctx: FlowContext): NoticeConfirmation {
  return ctx.twState('ssh:notice', () => ({ confirmed: false, attempts: 0 }));
}

/** The SSH client banner of a campaign and where it came from. */
export interface Banner {
  text: string;
  source: 'software.log' | 'ssh.log' | '';
}

function reportSuccess(host: DetectionHost, record: SshRecord, reported: Set<string>, flow: JoinedFlow): void {
  const { saddr, daddr } = record;
  const bytes = flow.sbytes + flow.dbytes;
  let model: string;
  if (record.auth_success === true) model = 'Zeek';
  else if (bytes > host.config.sshSuccessfulDetectionThreshold) model = 'Slips';
  else return;
  if (reported.has(daddr)) return;
  reported.add(daddr);
  host.emit({
    evidence_type: 'SSH_SUCCESSFUL',
    description:
      `SSH successful to IP ${daddr}. From IP ${saddr}. Sent bytes: ${bytes}. ` +
      `Detection model ${model}. Confidence 0.8`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: daddr },
    threat_level: 'info',
    confidence: 0.8,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

/** Failed attempts an ssh.log record stands for: 0 if it succeeded, 1 when Zeek gave no count. */
function attemptsOf(record: SshRecord): number {
  if (record.auth_success === true) return 0;
  return record.auth_attempts > 0 ? record.auth_attempts : 1;
}

function bannerBonus(banner: Banner): number {
  const text = banner.text.toLowerCase();
  let bonus = banner.source === 'software.log' ? 0.03 : 0;
  if (TOOL_BANNERS.some((token) => text.includes(token))) bonus += 0.07;
  else if (CLIENT_BANNERS.some((token) => text.includes(token))) bonus += 0.02;
  return Math.min(0.1, bonus);
}

/** Slips' brute-force confidence from the attempts seen (or confirmed by Zeek) and the banner. */
export function bruteForceConfidence(attempts: number, threshold: number, banner: Banner, confirmed: number): number {
  const effective = Math.max(attempts, confirmed);
  const full = Math.max(threshold, FULL_CONFIDENCE_ATTEMPTS);
  if (effective >= full) return 1;
  const progress = Math.min(1, Math.max(0, effective - threshold) / Math.max(1, full - threshold));
  return pyRound(Math.min(0.99, 0.5 + 0.4 * progress + bannerBonus(banner)), 2);
}

function countAttempts(host: DetectionHost, record: SshRecord, ctx: FlowContext): void {
  const attempts = attemptsOf(record);
  if (attempts === 0 || !isValidIp(record.saddr) || record.daddr === '') return;
  const campaigns = ctx.twState('ssh:campaigns', () => new Map<string, Campaign>());
  const key = `${record.daddr}/${record.dport}`;
  let campaign = campaigns.get(key);
  if (campaign === undefined) campaigns.set(key, (campaign = { attempts: 0, bucket: -1, uids: [] }));
  campaign.attempts += attempts;
  campaign.uids.push(record.uid);
  if (campaign.uids.length > MAX_CAMPAIGN_UIDS) campaign.uids.shift();
  const threshold = host.config.sshAttemptThreshold;
  if (campaign.attempts < threshold) return;
  const bucket = Math.floor(Math.log2(campaign.attempts - threshold + 1));
  if (bucket <= campaign.bucket) return;
  campaign.bucket = bucket;

  const softwareBanner = ctx.profileState<{ banner: string }>('ssh:clientBanner', () => ({ banner: '' })).banner;
  const banner: Banner =
    softwareBanner !== '' ? { text: softwareBanner, source: 'software.log' }
    : record.client !== '' ? { text: record.client, source: 'ssh.log' }
    : { text: '', source: '' };
  const notice = noticeOf(ctx);
  const confidence = bruteForceConfidence(campaign.attempts, threshold, banner, notice.attempts);
  const label = `${host.knowledge.portName(record.dport, 'tcp') ?? ''} ${record.dport}/tcp`.trim();
  let description = `SSH brute force detector from ${record.saddr} to ${record.daddr} on ${label}. Attempts observed: ${campaign.attempts}.`;
  if (banner.text !== '') description += ` Client banner: ${banner.text} from ${banner.source}.`;
  if (notice.confirmed) description += ' Confirmed by Zeek notice.log.';
  description += ` Confidence: ${pyFloat(confidence)}. by Slips`;
  host.emit({
    evidence_type: 'PASSWORD_GUESSING',
    description,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    ...(isValidIp(record.daddr) ? { victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr } as const } : {}),
    threat_level: 'medium',
    confidence,
    timestamp: record.ts,
    uid: [...campaign.uids],
    proto: 'tcp',
    dst_port: record.dport,
  });
}

/** Zeek's SSH::Password_Guessing notice: remembered for the confidence, reported once per TW. */
function onNotice(host: DetectionHost, record: NoticeRecord, ctx: FlowContext): void {
  if (!record.note.includes('Password_Guessing') || !isValidIp(record.saddr)) return;
  const seen = [...record.msg.matchAll(/seen in (\d+) connections/g)].map((match) => Number(match[1]));
  const notice = noticeOf(ctx);
  notice.attempts = Math.max(notice.attempts, ...seen);
  if (notice.confirmed) return;
  notice.confirmed = true;
  host.emit({
    evidence_type: 'PASSWORD_GUESSING',
    description: `SSH brute force detector. ${record.msg}. Confirmed by Zeek notice.log. Confidence: 1.0. by Zeek`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    threat_level: 'medium',
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

export const sshDetector: DetectorFactory = (host) => {
  return {
    name: 'ssh',
    evidenceTypes: ['SSH_SUCCESSFUL', 'PASSWORD_GUESSING'],
    joinsConnByUid: true,
    handlers: {
      ssh(record: SshRecord, ctx: FlowContext): void {
        const reported = ctx.twState('ssh:successReported', () => new Set<string>());
        host.withConnOf(record.uid, record.ts, SSH_CONN_WAIT, (flow) => reportSuccess(host, record, reported, flow));
        countAttempts(host, record, ctx);
      },
      software(record: SoftwareRecord, ctx: FlowContext): void {
        if (!record.software.includes('SSH::CLIENT')) return;
        ctx.profileState('ssh:clientBanner', () => ({ banner: '' })).banner =
          `${record.software_name} ${record.unparsed_version}`;
      },
      notice: (record: NoticeRecord, ctx: FlowContext) => onNotice(host, record, ctx),
    },
  };
};

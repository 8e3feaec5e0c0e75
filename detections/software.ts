// MULTIPLE_SSH_VERSIONS (detections spec §3.4): a host whose SSH client (or server) software
// version, as Zeek's software.log reports it, changes. Fix #34: versions read `major.minor`, and
// the first version is remembered per profile + time window (not forever); fix #23: each change
// (role, new version) is reported once per profile + time window.

import type { SoftwareRecord } from '../inputs/records.js';
import type { DetectorFactory, FlowContext } from './api.js';

const SSH_ROLES = ['SSH::CLIENT', 'SSH::SERVER'] as const;

interface SeenVersion {
  version: string;
  uid: string;
}

export const softwareDetector: DetectorFactory = (host) => ({
  name: 'software',
  evidenceTypes: ['MULTIPLE_SSH_VERSIONS'],
  handlers: {
    software(record: SoftwareRecord, ctx: FlowContext): void {
      const role = SSH_ROLES.find((name) => record.software.includes(name));
      if (role === undefined) return;
      const version = `${record.version_major}.${record.version_minor}`;
      const first = ctx.twState('software:sshVersions', () => new Map<string, SeenVersion>());
      const seen = first.get(role);
      if (seen === undefined) {
        first.set(role, { version, uid: record.uid });
        return;
      }
      if (seen.version === version) return;
      const reported = ctx.twState('software:reported', () => new Set<string>());
      const key = `${role} ${version}`;
      if (reported.has(key)) return;
      reported.add(key);
      const side = role === 'SSH::CLIENT' ? 'client' : 'server';
      host.emit({
        evidence_type: 'MULTIPLE_SSH_VERSIONS',
        description: `SSH ${side} version changing from ${seen.version} to ${version}`,
        attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
        threat_level: 'medium',
        confidence: 0.9,
        timestamp: record.ts,
        uid: [seen.uid, record.uid].filter((uid) => uid !== ''),
      });
    },
  },
});

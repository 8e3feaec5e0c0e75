// Tests of core/config.ts: defaults of the shipped slips.yaml, Slips' special values and
// the ConfigError messages (key path and file named).

import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DEFAULT_CONFIG_PATH, ONLY_ONE_TW_WIDTH, defaultConfig, loadConfig } from '../core/config.js';

const shippedFile = fileURLToPath(new URL('../../config/slips.yaml', import.meta.url));
const tempDir = mkdtempSync(path.join(os.tmpdir(), 'slips-config-test-'));
let fileCount = 0;

test.after.always(() => rmSync(tempDir, { recursive: true, force: true }));

function configFile(text: string): string {
  const file = path.join(tempDir, `slips-${++fileCount}.yaml`);
  writeFileSync(file, text);
  return file;
}

test('the shipped slips.yaml holds exactly the defaults', (t) => {
  const config = loadConfig(shippedFile);
  t.deepEqual(config.warnings, []);
  t.is(config.file, shippedFile);
  t.deepEqual({ ...config, file: DEFAULT_CONFIG_PATH }, defaultConfig());
  t.is(config.parameters.time_window_width, 3600);
  t.false(config.parameters.onlyOneTw);
  t.is(config.parameters.analysis_direction, 'out');
  t.is(config.detection.evidence_detection_threshold, 0.25);
  t.deepEqual(config.modules.disable, ['template']);
  t.is(config.flow_alerts.long_connection_threshold, 1500);
  t.is(config.brute_force_detector.ssh_attempt_threshold, 9);
  t.deepEqual(config.redis, { external: '', flush_external: false, timeline_max_flows_per_tw: 1000 });
});

test('missing keys and sections fall back to the defaults', (t) => {
  const config = loadConfig(configFile('parameters:\n  verbose: 2\n  label:\n'));
  t.is(config.parameters.verbose, 2);
  t.is(config.parameters.label, 'normal');
  t.deepEqual(config.flow_alerts, defaultConfig().flow_alerts);
  t.deepEqual({ ...loadConfig(configFile('')), file: DEFAULT_CONFIG_PATH }, defaultConfig());
});

test("time_window_width: only_one_tw becomes 9999999999", (t) => {
  const config = loadConfig(configFile('parameters:\n  time_window_width: only_one_tw\n'));
  t.is(config.parameters.time_window_width, ONLY_ONE_TW_WIDTH);
  t.is(ONLY_ONE_TW_WIDTH, 9999999999);
  t.true(config.parameters.onlyOneTw);
  t.is(loadConfig(configFile("parameters:\n  time_window_width: '300'\n")).parameters.time_window_width, 300);
});

test('the legacy flowalerts section is read like flow_alerts', (t) => {
  const config = loadConfig(configFile('flowalerts:\n  long_connection_threshold: 60\n  entropy_threshold: 4.5\n'));
  t.is(config.flow_alerts.long_connection_threshold, 60);
  t.is(config.flow_alerts.entropy_threshold, 4.5);
  t.is(config.flow_alerts.pastebin_download_threshold, 700);
  t.deepEqual(config.warnings, []);
  const error = t.throws(() => loadConfig(configFile('flowalerts:\n  entropy_threshold: high\n')), { instanceOf: ConfigError });
  t.regex(error.message, /flowalerts\.entropy_threshold must be a number >= 0, got "high"/);
});

test('a wrong type names the key path and the file', (t) => {
  const file = configFile('parameters:\n  time_window_width: abc\n');
  t.throws(() => loadConfig(file), {
    instanceOf: ConfigError,
    message: `${file}: parameters.time_window_width must be a positive number or 'only_one_tw', got "abc"`,
  });
  const boolFile = configFile('parameters:\n  deletePrevdb: 3\n');
  t.throws(() => loadConfig(boolFile), {
    instanceOf: ConfigError,
    message: `${boolFile}: parameters.deletePrevdb must be true or false, got 3`,
  });
  const sectionFile = configFile('detection: 0.5\n');
  t.throws(() => loadConfig(sectionFile), { instanceOf: ConfigError, message: `${sectionFile}: detection must be a section of keys, got 0.5` });
});

test('verbose and debug must be 0..3', (t) => {
  const file = configFile('parameters:\n  debug: 4\n');
  t.throws(() => loadConfig(file), { instanceOf: ConfigError, message: `${file}: parameters.debug must be an integer from 0 to 3, got 4` });
  t.is(loadConfig(configFile('parameters:\n  verbose: 0\n')).parameters.verbose, 0);
});

test('an unknown enum value is an error; analysis_direction other than all means out', (t) => {
  const file = configFile('parameters:\n  export_format: csv\n');
  t.throws(() => loadConfig(file), { instanceOf: ConfigError, message: `${file}: parameters.export_format must be 'json' or 'tsv', got "csv"` });
  t.is(loadConfig(configFile('parameters:\n  export_format: TSV\n')).parameters.export_format, 'tsv');
  t.is(loadConfig(configFile('parameters:\n  analysis_direction: all\n')).parameters.analysis_direction, 'all');
  t.is(loadConfig(configFile('parameters:\n  analysis_direction: in\n')).parameters.analysis_direction, 'out');
});

test('client_ips accepts a list or a list-like string and rejects non-IPs', (t) => {
  const fromList = loadConfig(configFile('parameters:\n  client_ips: [10.0.0.1, 192.168.1.0/24, "fe80::1"]\n'));
  t.deepEqual(fromList.parameters.client_ips, ['10.0.0.1', '192.168.1.0/24', 'fe80::1']);
  const fromString = loadConfig(configFile('parameters:\n  client_ips: "[10.0.0.1, 192.168.1.0/24]"\n'));
  t.deepEqual(fromString.parameters.client_ips, ['10.0.0.1', '192.168.1.0/24']);
  const file = configFile('parameters:\n  client_ips: [10.0.0.1, 10.0.0.300]\n');
  t.throws(() => loadConfig(file), {
    instanceOf: ConfigError,
    message: `${file}: parameters.client_ips must be a list of IP addresses or CIDR ranges, got "10.0.0.300"`,
  });
});

test('disabled_detections must name evidence types', (t) => {
  const ok = loadConfig(configFile('DisabledAlerts:\n  disabled_detections: [CONNECTION_WITHOUT_DNS, LONG_CONNECTION]\n'));
  t.deepEqual(ok.DisabledAlerts.disabled_detections, ['CONNECTION_WITHOUT_DNS', 'LONG_CONNECTION']);
  const file = configFile('DisabledAlerts:\n  disabled_detections: [LONG_CONNECTION, ConnectionWithoutDNS]\n');
  const error = t.throws(() => loadConfig(file), { instanceOf: ConfigError });
  t.true(error.message.startsWith(`${file}: DisabledAlerts.disabled_detections must be`));
  t.true(error.message.endsWith('got "ConnectionWithoutDNS"'));
});

test('unknown sections are warnings, unknown keys in known sections are accepted', (t) => {
  const file = configFile('mystery:\n  a: 1\nparameters:\n  some_future_key: 5\n');
  const config = loadConfig(file);
  t.deepEqual(config.warnings, [`${file}: unknown section "mystery" ignored`]);
  t.is(config.parameters.verbose, 1);
});

test('redis.external must be an address', (t) => {
  t.is(loadConfig(configFile("redis:\n  external: 'localhost:6380'\n")).redis.external, 'localhost:6380');
  const file = configFile("redis:\n  external: 'http://localhost:6380'\n");
  t.throws(() => loadConfig(file), { instanceOf: ConfigError, message: /redis\.external must be .*got "http:\/\/localhost:6380"/ });
});

test('a missing file stops Slips with its message', (t) => {
  const file = path.join(tempDir, 'nope.yaml');
  t.throws(() => loadConfig(file), { instanceOf: ConfigError, message: `${file} doesn't exist. Stopping Slips` });
});

test('invalid YAML is a ConfigError naming the file', (t) => {
  const file = configFile('parameters:\n  verbose: [1\n');
  t.throws(() => loadConfig(file), { instanceOf: ConfigError, message: new RegExp(`^${file.replaceAll('.', '\\.')}: invalid YAML`) });
});

/**
 * Each key of the config table on its own: the typed value a valid input gives, each limit accepted exactly and
 * refused one past it, and the line of the error the user reads (the key, what was expected, the value received).
 */
import { describe, expect, test } from "vitest";
import { KEYS } from "../../config/keys";
import { configErrorLines, freshConfigParsers, parseConfig, type ConfigOverrides } from "../support/stackConfig";

/** The one line of the error, or a list of every line when the config gives other problems too (or none). */
const errorLine = (over: ConfigOverrides, errorLines = configErrorLines) => {
  const lines = errorLines(over);
  return lines.length === 1 ? lines[0] : lines;
};

// Tests of a check or pattern the key table builds when it loads take the table loaded afresh (freshConfigParsers).

// [key, min, max, what else the limits need to pass the cross-checks]: every integer key of the table.
const INTEGER_KEYS: [string, number, number, ConfigOverrides][] = [
  ["warmMinInstances", 1, 100, { "warmstart:maxInstances": "100" }],
  ["idleMinInstances", 0, 100, { "warmstart:maxInstances": "100" }],
  ["warmLeadMinutes", 0, 240, {}],
  ["cpu", 4, 8, { "warmstart:memory": "16Gi" }],
  ["concurrency", 1, 1000, {}],
  // A timeout of 1 s is below the default latency objectives (p50 5 s), which it would refuse.
  ["requestTimeoutSeconds", 1, 3600, { "warmstart:latencyObjectiveSeconds": "{}" }],
  ["maxInstances", 1, 100, {}],
  ["imageRetention", 1, 100, {}],
  ["buildTimeoutMinutes", 10, 1440, {}],
  ["monthlyBudget", 0, 10_000_000, {}],
  ["guardMaxInstances", 0, 100, { "warmstart:maxInstances": "100" }],
  ["requestLogRetentionDays", 0, 3650, {}],
  ["coldStartAlertSeconds", 10, 3600, {}],
  ["coldStartsPerDayObjective", 0, 1000, {}],
];

/** Where each key's value lands in the typed config. */
const TYPED: Record<string, (c: ReturnType<typeof parseConfig>) => unknown> = {
  warmMinInstances: (c) => c.warm.warmMinInstances,
  idleMinInstances: (c) => c.warm.idleMinInstances,
  warmLeadMinutes: (c) => c.warm.leadMinutes,
  cpu: (c) => c.service.cpu,
  concurrency: (c) => c.service.concurrency,
  requestTimeoutSeconds: (c) => c.service.requestTimeoutSeconds,
  maxInstances: (c) => c.service.maxInstances,
  maxColdStartSeconds: (c) => c.service.maxColdStartSeconds,
  imageRetention: (c) => c.image.retention,
  buildTimeoutMinutes: (c) => c.image.buildTimeoutMinutes,
  monthlyBudget: (c) => c.budget.monthlyBudget,
  guardMaxInstances: (c) => c.budget.guardMaxInstances,
  requestLogRetentionDays: (c) => c.cost.requestLogRetentionDays,
  coldStartAlertSeconds: (c) => c.coldStartAlertSeconds,
  coldStartsPerDayObjective: (c) => c.objectives.coldStartsPerDay,
  guardRatio: (c) => c.budget.guardRatio,
  dailySpendLimit: (c) => c.budget.dailySpendLimit,
  offWindowInstanceHoursPerDay: (c) => c.cost.offWindowInstanceHoursPerDay,
};

describe("integer keys", () => {
  test("the table lists every integer key of the config", () => {
    const integers = Object.entries(KEYS).filter(([, spec]) => spec.type === "integer").map(([name]) => name);
    // maxColdStartSeconds has a tighter limit of its own (below).
    expect([...INTEGER_KEYS.map(([k]) => k), "maxColdStartSeconds"].sort()).toEqual(integers.sort());
  });

  test.each(INTEGER_KEYS)("warmstart:%s takes %i..%i, both included", (key, min, max, extra) => {
    expect(TYPED[key](parseConfig({ ...extra, [`warmstart:${key}`]: String(min) }))).toBe(min);
    expect(TYPED[key](parseConfig({ ...extra, [`warmstart:${key}`]: String(max) }))).toBe(max);
  });

  test.each(INTEGER_KEYS)("warmstart:%s refuses one below %i and one above %i, naming the range", (key, min, max, extra) => {
    for (const refused of [min - 1, max + 1]) {
      expect(errorLine({ ...extra, [`warmstart:${key}`]: String(refused) })).toBe(`warmstart:${key}: must be an integer ${min}..${max}, got "${refused}"`);
    }
  });

  test("surrounding spaces are dropped; a fraction, an exponent, a sign-only or a word is refused", () => {
    expect(parseConfig({ "warmstart:maxInstances": " 7 " }).service.maxInstances).toBe(7);
    for (const refused of ["2.5", "1e1", "x5", "5x", "-", "", "0x10", "seven"]) {
      expect(errorLine({ "warmstart:maxInstances": refused }), refused).toBe(`warmstart:maxInstances: must be an integer 1..100, got ${JSON.stringify(refused)}`);
    }
  });

  test("a negative number is read as one, and refused by the range", () => {
    expect(errorLine({ "warmstart:idleMinInstances": "-1" })).toBe('warmstart:idleMinInstances: must be an integer 0..100, got "-1"');
  });

  test("warmstart:maxColdStartSeconds: 10..480 s, what Cloud Run's startup probe can wait; the table's 3600 is the integer's own bound", () => {
    expect(parseConfig({ "warmstart:maxColdStartSeconds": "10" }).service.maxColdStartSeconds).toBe(10);
    expect(parseConfig({ "warmstart:maxColdStartSeconds": "480" }).service.maxColdStartSeconds).toBe(480);
    expect(errorLine({ "warmstart:maxColdStartSeconds": "9" })).toBe('warmstart:maxColdStartSeconds: must be an integer 10..3600, got "9"');
    expect(errorLine({ "warmstart:maxColdStartSeconds": "481" })).toBe(
      'warmstart:maxColdStartSeconds: must be at most 480: Cloud Run caps a startup probe\'s initial delay at 240 s and period × failure threshold at 240 s; make the model load faster instead, got "481"',
    );
    expect(errorLine({ "warmstart:maxColdStartSeconds": "3601" })).toBe('warmstart:maxColdStartSeconds: must be an integer 10..3600, got "3601"');
  });

  test("warmstart:cpu: only 4, 6 or 8 within 4..8", () => {
    expect(parseConfig({ "warmstart:cpu": "6", "warmstart:memory": "24Gi" }).service.cpu).toBe(6);
    for (const cpu of ["5", "7"]) {
      expect(errorLine({ "warmstart:cpu": cpu, "warmstart:memory": "16Gi" })).toBe(`warmstart:cpu: must be 4, 6 or 8 (Cloud Run allows whole vCPUs 4, 6 or 8 with a GPU), got "${cpu}"`);
    }
  });
});

// [key, min, max, a value inside]: every decimal key of the table.
const DECIMAL_KEYS: [string, number, number, string, number][] = [
  ["guardRatio", 0.1, 10, "0.85", 0.85],
  ["dailySpendLimit", 0, 1_000_000, "12.5", 12.5],
  ["offWindowInstanceHoursPerDay", 0, 2400, "3.25", 3.25],
];

describe("decimal keys", () => {
  // A daily limit needs the budget and its guard; with them, a limit above what the schedule spends warns of nothing.
  const BUDGET = { "warmstart:billingAccount": "012345-6789AB-CDEF01", "warmstart:monthlyBudget": "100" };

  test("the table lists every decimal key of the config", () => {
    const decimals = Object.entries(KEYS).filter(([, spec]) => "docType" in spec && spec.docType === "string (number)").map(([name]) => name);
    expect(DECIMAL_KEYS.map(([k]) => k).sort()).toEqual(decimals.sort());
  });

  test.each(DECIMAL_KEYS)("warmstart:%s takes %d..%d, both included, and fractions within", (key, min, max, inside, value) => {
    for (const [text, expected] of [[String(min), min], [String(max), max], [inside, value], [` ${inside} `, value]] as const) {
      expect(TYPED[key](parseConfig({ ...BUDGET, [`warmstart:${key}`]: text })), text).toBe(expected);
    }
  });

  test.each(DECIMAL_KEYS)("warmstart:%s refuses just below %d, just above %d, an empty value and a word, naming the range", (key, min, max) => {
    for (const refused of [String(min - 0.01), String(max + 0.01), "", "  ", "NaN", "Infinity", "ten"]) {
      expect(errorLine({ ...BUDGET, [`warmstart:${key}`]: refused }), refused).toBe(`warmstart:${key}: must be a number ${min}..${max}, got ${JSON.stringify(refused)}`);
    }
  });
});

describe("boolean keys", () => {
  const BOOLEAN_KEYS: [string, (c: ReturnType<typeof parseConfig>) => boolean][] = [
    ["gpuZonalRedundancy", (c) => c.service.gpuZonalRedundancy],
    ["public", (c) => c.service.public],
    ["deletionProtection", (c) => c.service.deletionProtection],
    ["budgetGuard", (c) => c.budget.guard],
  ];

  test.each(BOOLEAN_KEYS)("warmstart:%s reads true and false, in any case and with spaces around", (key, typed) => {
    for (const [text, expected] of [["true", true], ["false", false], ["TRUE", true], ["False", false], [" true ", true], ["false\n", false]] as const) {
      expect(typed(parseConfig({ [`warmstart:${key}`]: text })), JSON.stringify(text)).toBe(expected);
    }
  });

  test.each(BOOLEAN_KEYS)("warmstart:%s refuses anything else", (key) => {
    for (const refused of ["yes", "1", "", "truefalse", "t"]) {
      expect(errorLine({ [`warmstart:${key}`]: refused }), refused).toBe(`warmstart:${key}: must be true or false, got ${JSON.stringify(refused)}`);
    }
  });
});

describe("keys with a fixed set of values", () => {
  const CF = { "warmstart:cloudflareAccountId": "0123456789abcdef0123456789abcdef", "warmstart:cloudflareZoneId": "fedcba9876543210fedcba9876543210" };
  const DIGEST = `us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(64)}`;
  // [key, each value with what it needs beside it, where it lands, the values the message lists]
  const ONE_OF: [string, [string, ConfigOverrides][], (c: ReturnType<typeof parseConfig>) => unknown, string][] = [
    [
      "imageBuild",
      [["cloudbuild", {}], ["local", { "warmstart:modelsManifest": "container/models.json" }], ["none", { "warmstart:image": DIGEST }]],
      (c) => c.image.mode,
      "cloudbuild | local | none",
    ],
    ["buildMachineType", [["E2_HIGHCPU_8", {}], ["E2_HIGHCPU_32", {}]], (c) => c.image.buildMachineType, "E2_HIGHCPU_8 | E2_HIGHCPU_32"],
    ["modelsJurisdiction", [["default", CF], ["eu", CF], ["us", CF], ["fedramp", CF]], (c) => c.modelsBucket?.jurisdiction, "default | eu | us | fedramp"],
    ["modelsAccess", [["header", {}], ["presigned", CF], ["public", {}]], (c) => c.image.models?.access, "header | presigned | public"],
  ];

  test.each(ONE_OF)("warmstart:%s takes each of its values", (key, values, typed) => {
    for (const [value, needs] of values) expect(typed(parseConfig({ ...needs, [`warmstart:${key}`]: ` ${value} ` })), value).toBe(value);
  });

  test.each(ONE_OF)("warmstart:%s refuses another value, or one in another case, listing the values", (key, values, _typed, listed) => {
    for (const refused of ["other", values[0][0].toUpperCase() === values[0][0] ? values[0][0].toLowerCase() : values[0][0].toUpperCase(), ""]) {
      expect(errorLine({ ...values[0][1], [`warmstart:${key}`]: refused }), refused).toBe(`warmstart:${key}: must be one of ${listed}, got ${JSON.stringify(refused)}`);
    }
  });

  test("warmstart:modelsLocationHint: empty lets Cloudflare choose; the message shows the empty choice as \"\"", () => {
    expect(parseConfig(CF).modelsBucket?.locationHint).toBeUndefined();
    for (const hint of ["wnam", "enam", "weur", "eeur", "apac", "oc"]) expect(parseConfig({ ...CF, "warmstart:modelsLocationHint": hint }).modelsBucket?.locationHint).toBe(hint);
    expect(errorLine({ ...CF, "warmstart:modelsLocationHint": "eu" })).toBe('warmstart:modelsLocationHint: must be one of "" | wnam | enam | weur | eeur | apac | oc, got "eu"');
  });
});

describe("list keys", () => {
  test("a JSON array or a comma-separated list; items trimmed, empty ones dropped", () => {
    const invokers = (value: string) => parseConfig({ "warmstart:invokers": value }).service.invokers;
    expect(invokers('["user:a@example.com", " group:g@example.com ", ""]')).toEqual(["user:a@example.com", "group:g@example.com"]);
    expect(invokers(" user:a@example.com , ,group:g@example.com, ")).toEqual(["user:a@example.com", "group:g@example.com"]);
    expect(invokers("user:a@example.com")).toEqual(["user:a@example.com"]);
    expect(invokers("")).toEqual([]);
    expect(invokers("[]")).toEqual([]);
    expect(invokers(' ["user:a@example.com"]')).toEqual(["user:a@example.com"]);
    expect(parseConfig().service.invokers).toEqual([]);
  });

  test("a value that starts as JSON must be a JSON array of strings", () => {
    expect(errorLine({ "warmstart:invokers": '["user:a@example.com"' })).toBe('warmstart:invokers: must be a JSON array of strings or a comma-separated list, got "[\\"user:a@example.com\\""');
    expect(errorLine({ "warmstart:invokers": '["user:a@example.com", null]' })).toBe('warmstart:invokers: must be a list of strings, got "[\\"user:a@example.com\\", null]"');
  });

  test("an item is refused by its value, quoted; an item listed twice is refused once, naming it", () => {
    expect(errorLine({ "warmstart:invokers": "user:a@example.com, alice@example.com" })).toBe(
      'warmstart:invokers: item "alice@example.com" must be an IAM member such as user:a@b.com, group:g@b.com or serviceAccount:x@p.iam.gserviceaccount.com, got "user:a@example.com, alice@example.com"',
    );
    expect(errorLine({ "warmstart:invokers": "user:b@example.com,user:a@example.com,user:b@example.com,user:a@example.com" })).toBe(
      'warmstart:invokers: item "user:b@example.com" appears twice; list each once, got "user:b@example.com,user:a@example.com,user:b@example.com,user:a@example.com"',
    );
  });

  test("warmstart:invokers: every kind of IAM member; allUsers points to warmstart:public", async () => {
    const { parseConfig, configErrorLines } = await freshConfigParsers();
    const members = ["user:a@example.com", "serviceAccount:app@p.iam.gserviceaccount.com", "group:g@example.com", "domain:example.com", "principal://iam.googleapis.com/x", "principalSet://iam.googleapis.com/y"];
    expect(parseConfig({ "warmstart:invokers": JSON.stringify(members) }).service.invokers).toEqual(members);
    for (const everyone of ["allUsers", "allAuthenticatedUsers"]) {
      expect(errorLine({ "warmstart:invokers": everyone }, configErrorLines)).toBe(`warmstart:invokers: item "${everyone}" is not allowed here; set warmstart:public true to open the service to everyone, got "${everyone}"`);
    }
    for (const refused of ["user:", "user:a b", "xuser:a@example.com", "users:a@example.com", "user:a@example.com x"]) {
      expect(errorLine({ "warmstart:invokers": JSON.stringify([refused]) }, configErrorLines), refused).toMatch(new RegExp(`^warmstart:invokers: item ".*" must be an IAM member such as`));
    }
  });

  test("warmstart:alertEmails: addresses, up to 5", async () => {
    const { parseConfig, configErrorLines } = await freshConfigParsers();
    const five = ["a@example.org", "b.c@mail.example.org", "d+e@x.io", "f@g.hi", "j@k.lm"];
    expect(parseConfig({ "warmstart:alertEmails": JSON.stringify(five) }).budget.alertEmails).toEqual(five);
    for (const refused of ["a@b", "@b.com", "a@.com", "a@b.", "a b@c.com", "a@b c.com", "a@b.c d", "a@@b.com", "ab.com"]) {
      expect(errorLine({ "warmstart:alertEmails": JSON.stringify([refused]) }, configErrorLines), refused).toBe(`warmstart:alertEmails: item ${JSON.stringify(refused)} must be an email address, got ${JSON.stringify(JSON.stringify([refused]))}`);
    }
    const six = [...five, "n@o.pq"];
    expect(errorLine({ "warmstart:alertEmails": six.join(",") }, configErrorLines)).toBe(
      `warmstart:alertEmails: has 6 addresses; a budget takes at most 5 notification channels, got ${JSON.stringify(JSON.stringify(six))}`,
    );
  });

  test("warmstart:budgetThresholds: fractions above 0 and at most 10, current or forecast spend", async () => {
    const { parseConfig, configErrorLines } = await freshConfigParsers();
    expect(parseConfig().budget.thresholds).toEqual([
      { fraction: 0.5, basis: "CURRENT_SPEND" },
      { fraction: 0.9, basis: "CURRENT_SPEND" },
      { fraction: 1, basis: "CURRENT_SPEND" },
      { fraction: 1, basis: "FORECASTED_SPEND" },
    ]);
    expect(parseConfig({ "warmstart:budgetThresholds": "0.01, 10, forecast:10, forecast:0.25, 3" }).budget.thresholds).toEqual([
      { fraction: 0.01, basis: "CURRENT_SPEND" },
      { fraction: 10, basis: "CURRENT_SPEND" },
      { fraction: 10, basis: "FORECASTED_SPEND" },
      { fraction: 0.25, basis: "FORECASTED_SPEND" },
      { fraction: 3, basis: "CURRENT_SPEND" },
    ]);
    for (const refused of ["0", "0.0", "forecast:0", "10.01", "forecast:10.5", "11", "-1", ".5", "1.", "forecast:", "fc:1", "1.0x", "x1.0", "forecast:forecast:1"]) {
      expect(errorLine({ "warmstart:budgetThresholds": refused }, configErrorLines), refused).toBe(
        `warmstart:budgetThresholds: item ${JSON.stringify(refused)} must be a fraction of the budget such as 0.9 (or "forecast:1.0"), above 0 and at most 10, got ${JSON.stringify(refused)}`,
      );
    }
  });

  test("warmstart:prefetchDirs: absolute paths without : or spaces; ComfyUI's /models by default", async () => {
    const { parseConfig, configErrorLines } = await freshConfigParsers();
    expect(parseConfig().service.modelServer.prefetchDirs).toEqual(["/models"]);
    expect(parseConfig({ "warmstart:prefetchDirs": '["/models", "/", "/opt/weights-2"]' }).service.modelServer.prefetchDirs).toEqual(["/models", "/", "/opt/weights-2"]);
    for (const refused of ["models", "/a:b", "/a b", "x/models"]) {
      expect(errorLine({ "warmstart:prefetchDirs": JSON.stringify([refused]) }, configErrorLines), refused).toBe(
        `warmstart:prefetchDirs: item ${JSON.stringify(refused)} must be an absolute path without : or spaces, e.g. /models, got ${JSON.stringify(JSON.stringify([refused]))}`,
      );
    }
  });
});

describe("warmstart:warmWindows as a string or a list", () => {
  test("a string is trimmed; a JSON list gives one window per item; an empty list keeps nothing warm", () => {
    expect(parseConfig({ "warmstart:warmWindows": "  sat 10:00-12:00  " }).warm.windowsText).toBe("sat 10:00-12:00");
    expect(parseConfig({ "warmstart:warmWindows": ' ["sat 10:00-12:00", "sun 10:00-12:00"] ' }).warm.windowsText).toBe("sat 10:00-12:00; sun 10:00-12:00");
    const none = parseConfig({ "warmstart:warmWindows": "[]" });
    expect(none.warm.windowsText).toBe("");
    expect(none.warm.schedule.jobs).toEqual([]);
  });

  test("a list that is not JSON shows both forms", () => {
    expect(errorLine({ "warmstart:warmWindows": '["sat 10:00-12:00"' })).toBe(
      'warmstart:warmWindows: must be a string of windows separated by ";" or a list of windows, e.g. "weekdays 09:00-21:00; sat,sun 12:00-18:00", got "[\\"sat 10:00-12:00\\""',
    );
  });
});

const HOST_253 = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`;
const HOST_254 = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(58)}.com`;

describe("string keys", () => {
  // [key, accepted values and the typed value each gives, refused values, the reason the line gives]
  const CF = { "warmstart:cloudflareAccountId": "0123456789abcdef0123456789abcdef", "warmstart:cloudflareZoneId": "fedcba9876543210fedcba9876543210" };
  const CI = { "warmstart:stateBucket": "acme-state" };
  const STRING_KEYS: [string, [string, unknown][], (c: ReturnType<typeof parseConfig>) => unknown, string[], string, ConfigOverrides?][] = [
    [
      "serviceName",
      [["a", "a"], [" imagegen-2 ", "imagegen-2"], ["a".repeat(49), "a".repeat(49)]],
      (c) => c.service.name,
      ["", "a".repeat(50), "2gen", "gen-", "Gen", "my_service", "-gen", "x y"],
      "must be 1-49 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen",
    ],
    ["billingAccount", [["", undefined], ["012345-6789AB-CDEF01", "012345-6789AB-CDEF01"]], (c) => c.budget.billingAccount, ["012345-6789ab-CDEF01", "012345-6789AB-CDEF0", "012345-6789AB-CDEF012", "0123456789ABCDEF01", "x012345-6789AB-CDEF01"], "must be a billing account id like 012345-6789AB-CDEF01 (gcloud billing accounts list)", { "warmstart:monthlyBudget": "100" }],
    ["cloudflareAccountId", [["", undefined], [" 0123456789abcdef0123456789abcdef ", "0123456789abcdef0123456789abcdef"]], (c) => c.modelsBucket?.accountId, ["0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0", "g123456789abcdef0123456789abcdef"], "must be a Cloudflare account id (32 hex digits, from the dashboard's URL or Overview)", { "warmstart:cloudflareZoneId": CF["warmstart:cloudflareZoneId"] }],
    ["cloudflareZoneId", [["fedcba9876543210fedcba9876543210", "fedcba9876543210fedcba9876543210"]], (c) => c.modelsBucket?.domain?.zoneId, ["FEDCBA9876543210FEDCBA9876543210", "fedcba9876543210fedcba987654321", "fedcba9876543210fedcba98765432100", "zone"], "must be a Cloudflare zone id (32 hex digits)", { "warmstart:cloudflareAccountId": CF["warmstart:cloudflareAccountId"] }],
    ["modelsBucket", [["", "warmstart-models"], ["abc", "abc"], ["a".repeat(63), "a".repeat(63)], ["my-models-2", "my-models-2"]], (c) => c.modelsBucket?.bucketName, ["ab", "a".repeat(64), "-abc", "abc-", "ABC", "a_bc", "a.bc"], "must be 3-63 lowercase letters, digits or hyphens", CF],
    ["githubRepository", [["", undefined], ["acme/imagegen-infra", "acme/imagegen-infra"], ["Acme-2/repo.name_x-y", "Acme-2/repo.name_x-y"]], (c) => c.ci.githubRepository, ["acme", "acme/", "/repo", "acme/repo/x", "ac me/repo", "acme/re po", "https://github.com/acme/repo"], "must be owner/name, e.g. acme/imagegen-infra", CI],
    ["stateBucket", [["", ""], ["abc", "abc"], ["acme.pulumi_state-1", "acme.pulumi_state-1"], ["a".repeat(63), "a".repeat(63)]], (c) => c.ci.stateBucket, ["ab", "a".repeat(64), "gs://acme-state", "-acme", "acme-", "Acme", "acme state"], "must be a bucket name such as acme-pulumi-state (no gs://)"],
    ["modelServerCommand", [["python3 /srv/server.py --port 9000", "python3 /srv/server.py --port 9000"]], (c) => c.service.modelServer.command, ["", "   "], "must be a command, e.g. python3 /srv/server.py --port 9000"],
    ["image", [["", undefined], [`us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(64)}`, `us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(64)}`], [`localhost:5000/img@sha256:${"0".repeat(64)}`, `localhost:5000/img@sha256:${"0".repeat(64)}`]], (c) => c.image.image, ["us-docker.pkg.dev/p/r/img:1", `Us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(64)}`, `us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(65)}`, `us-docker.pkg.dev/p/r/img@sha256:${"e".repeat(63)}`], "must be an image reference by digest, e.g. us-docker.pkg.dev/p/r/img@sha256:<64 hex>"],
    // A host name is at most 253 characters (RFC 1035), each label 1-63.
    ["modelsDomain", [["weights.example.org", "https://weights.example.org"], ["m.example.org", "https://m.example.org"], [HOST_253, `https://${HOST_253}`]], (c) => (c.image.models && "baseUrl" in c.image.models ? c.image.models.baseUrl : undefined), ["weights", "https://weights.example.org", "weights.example.org/x", HOST_254], "must be a host name such as models.example.com (no scheme, no path)"],
    ["modelsAccessHeader", [["X-My-Key-2", "X-My-Key-2"]], (c) => (c.image.models?.access === "header" ? c.image.models.header : undefined), ["X_Key", "X Key", ""], "must be an HTTP header name (letters, digits and hyphens)"],
    ["modelServerUrl", [["http://127.0.0.1:9000", "http://127.0.0.1:9000"], ["http://localhost:9000/", "http://localhost:9000/"]], (c) => c.service.modelServer.url, ["http://10.0.0.1:9000", "https://127.0.0.1:9000"], "must be http://127.0.0.1:<port> (the model server listens inside the container; the supervisor proxies to it), e.g. http://127.0.0.1:8188"],
    ["modelHealthPath", [["/health", "/health"]], (c) => c.service.modelServer.healthPath, ["health", "/he alth"], 'must be a path starting with "/", e.g. /health'],
  ];

  test.each(STRING_KEYS)("warmstart:%s takes a valid value, trimmed", async (key, accepted, typed, _refused, _reason, needs = {}) => {
    const { parseConfig } = await freshConfigParsers();
    for (const [value, expected] of accepted) expect(typed(parseConfig({ ...needs, [`warmstart:${key}`]: value })), value).toEqual(expected);
  });

  // The key's own line comes first; a key another one requires (modelsDomain, cloudflareZoneId) is also reported missing.
  test.each(STRING_KEYS)("warmstart:%s refuses a malformed value, saying what it must be", async (key, _accepted, _typed, refused, reason, needs = {}) => {
    const { configErrorLines } = await freshConfigParsers();
    for (const value of refused) expect(configErrorLines({ ...needs, [`warmstart:${key}`]: value })[0], value).toBe(`warmstart:${key}: ${reason}, got ${JSON.stringify(value)}`);
  });

  test("warmstart:timezone: an IANA name, trimmed, is the schedule's time zone", () => {
    expect(parseConfig({ "warmstart:timezone": " Europe/Paris " }).warm.schedule.timeZone).toBe("Europe/Paris");
    expect(parseConfig().warm.schedule.timeZone).toBe("UTC");
  });

  test("warmstart:baseImage: an image by registry host, or one of this repository's reference images", async () => {
    const { parseConfig, configErrorLines } = await freshConfigParsers();
    const base = (value: string) => parseConfig({ "warmstart:baseImage": value }).image;
    expect(base(" docker.io/library/python:3.12 ")).toMatchObject({ baseImage: "docker.io/library/python:3.12", baseReference: undefined });
    for (const image of ["docker.io/library/python", "localhost:5000/python:3.12-slim", `ghcr.io/acme/server:1@sha256:${"a".repeat(64)}`, `ghcr.io/acme/server@sha256:${"a".repeat(64)}`]) {
      expect(base(image).baseImage).toBe(image);
    }
    expect(base("./images/pyserver/Dockerfile.cuda")).toMatchObject({ baseReference: { folder: "images/pyserver", dockerfile: "Dockerfile.cuda", imageName: "base-pyserver-cuda" } });
    expect(base("./images/pyserver")).toMatchObject({ baseReference: { folder: "images/pyserver", dockerfile: "Dockerfile", imageName: "base-pyserver" } });
    // Pulled like any image: only a value that starts with ./images/ is one of this repository's.
    expect(base("ghcr.io/acme./images/comfyui")).toMatchObject({ baseImage: "ghcr.io/acme./images/comfyui", baseReference: undefined });
    expect(base("./images/pyserver/Dockerfile")).toMatchObject({ baseReference: { folder: "images/pyserver", dockerfile: "Dockerfile", imageName: "base-pyserver" } });
    for (const refused of ["python", "./images/", "./images/Comfy", "./images/comfyui/Containerfile", "Docker.io/library/python:3.12", "docker.io/library/python:3.12 x", "localhost:port/python", `ghcr.io/acme/server@sha256:${"a".repeat(63)}`]) {
      expect(errorLine({ "warmstart:baseImage": refused }, configErrorLines), refused).toBe(
        `warmstart:baseImage: must be an image reference such as docker.io/library/python:3.12 (registry host first), or ./images/<name>, e.g. ./images/comfyui, got ${JSON.stringify(refused)}`,
      );
    }
  });

  test("warmstart:modelsAccessHeader: a header proxies or the WAF treat specially is refused with its role", () => {
    expect(errorLine({ "warmstart:modelsAccessHeader": "Cookie" })).toBe(
      'warmstart:modelsAccessHeader: "Cookie" is a header proxies and the WAF treat specially (credentials): the key could be dropped, rewritten or read as something else on the way; use a header of your own, e.g. the default X-Warmstart-Models-Key, got "Cookie"',
    );
  });

  test("warmstart:warmupRequest: none, a file in the image, or an inline JSON request", () => {
    const warmup = (value: string) => parseConfig({ "warmstart:warmupRequest": value }).service.modelServer.warmup;
    expect(warmup("none")).toEqual({ kind: "none" });
    expect(warmup("file:/srv/warmup.json")).toEqual({ kind: "file", path: "/srv/warmup.json" });
    expect(warmup('{"path":"/predict"}')).toEqual({ kind: "inline", json: '{"path":"/predict"}' });
    expect(errorLine({ "warmstart:warmupRequest": "file:warmup.json" })).toBe(
      'warmstart:warmupRequest: file: must name an absolute path in the image, e.g. "file:/opt/warmstart/comfyui/warmup.json", got "file:warmup.json"',
    );
  });

  test("warmstart:modelServerEnv and modelServerSecrets: JSON objects, refused with the map's own message", () => {
    const c = parseConfig({ "warmstart:modelServerEnv": '{"HF_HOME":"/models"}', "warmstart:modelServerSecrets": '{"HF_TOKEN":"hf-token"}' });
    expect(c.service.modelServer.env).toEqual({ HF_HOME: "/models" });
    expect(c.service.modelServer.secrets).toEqual({ HF_TOKEN: "hf-token" });
    expect(errorLine({ "warmstart:modelServerEnv": "HF_HOME=/models" })).toBe('warmstart:modelServerEnv: must be a JSON object of environment variables, e.g. {"HF_HOME":"/models"}, got "HF_HOME=/models"');
    expect(errorLine({ "warmstart:modelServerSecrets": "HF_TOKEN=hf-token" })).toBe('warmstart:modelServerSecrets: must be a JSON object of secret ids, e.g. {"HF_TOKEN":"hf-token"}, got "HF_TOKEN=hf-token"');
    expect(errorLine({ "warmstart:modelServerSecrets": '{"HF_TOKEN":"hf token"}' })).toBe(
      'warmstart:modelServerSecrets: the value of "HF_TOKEN" must be a Secret Manager secret id in this project (letters, digits, - and _), e.g. hf-token, got "{\\"HF_TOKEN\\":\\"hf token\\"}"',
    );
  });

  test("warmstart:prices: overrides of the cost model's prices", () => {
    expect(parseConfig({ "warmstart:prices": '{"l4PerSecond": 0.0002}' }).cost.prices.l4PerSecond).toBe(0.0002);
    expect(parseConfig().cost.prices.l4PerSecond).toBe(0.0001867);
    expect(errorLine({ "warmstart:prices": '{"gpuPerSecond": 1}' })).toMatch(/^warmstart:prices: unknown price "gpuPerSecond"; known: l4PerSecond, .*, got "\{\\"gpuPerSecond\\": 1\}"$/);
  });

  test("warmstart:latencyObjectiveSeconds: percentiles to seconds, sorted; {} for none", () => {
    expect(parseConfig({ "warmstart:latencyObjectiveSeconds": '{"p99":30,"p50":4}' }).objectives.latency).toEqual([
      { percentile: 50, seconds: 4 },
      { percentile: 99, seconds: 30 },
    ]);
    expect(parseConfig({ "warmstart:latencyObjectiveSeconds": "{}" }).objectives.latency).toEqual([]);
    expect(errorLine({ "warmstart:latencyObjectiveSeconds": '{"p50":5,"p50 ":6}' })).toMatch(/^warmstart:latencyObjectiveSeconds: (has "p50 "|names p50 twice)/);
  });

  test("warmstart:secretsKmsKey: projects/P/locations/L/keyRings/R/cryptoKeys/K, each id as Cloud KMS allows it", async () => {
    const { parseConfig, configErrorLines } = await freshConfigParsers();
    const kms = (value: string) => parseConfig({ "warmstart:secretsKmsKey": value }).ci.secretsKmsKey;
    expect(kms("")).toBeUndefined();
    for (const key of [
      "projects/acme-prod/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets",
      "projects/123456789012/locations/us-central1/keyRings/r/cryptoKeys/k",
      `projects/${"1".repeat(20)}/locations/us/keyRings/${"R_".repeat(31)}R/cryptoKeys/${"k-".repeat(31)}k`,
      "projects/acme-prod/locations/nam-eur-asia1/keyRings/Ring_1/cryptoKeys/Key-1",
    ]) {
      expect(kms(key), key).toBe(key);
    }
    const example = "e.g. projects/acme-prod/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets";
    const refused: [string, string][] = [
      [`projects/${"1".repeat(21)}/locations/global/keyRings/r/cryptoKeys/k`, `its project must be a project id (6-30 lowercase letters, digits or hyphens) or number; ${example}`],
      ["projects//locations/global/keyRings/r/cryptoKeys/k", `its project must be a project id (6-30 lowercase letters, digits or hyphens) or number; ${example}`],
      ["projects/acme-prod/locations/Global/keyRings/r/cryptoKeys/k", `its location must be a Cloud KMS location such as global, us or us-central1; ${example}`],
      ["projects/acme-prod/locations/us-/keyRings/r/cryptoKeys/k", `its location must be a Cloud KMS location such as global, us or us-central1; ${example}`],
      ["projects/acme-prod/locations/global/keyRings//cryptoKeys/k", `its key ring id must be 1-63 letters, digits, _ or - (Cloud KMS's rule); ${example}`],
      [`projects/acme-prod/locations/global/keyRings/r/cryptoKeys/${"k".repeat(64)}`, `its key id must be 1-63 letters, digits, _ or - (Cloud KMS's rule); ${example}`],
      ["projects/acme-prod/locations/global/keyRings/r/cryptoKeys/", `its key id must be 1-63 letters, digits, _ or - (Cloud KMS's rule); ${example}`],
      ["projects/acme-prod/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1", `must be projects/P/locations/L/keyRings/R/cryptoKeys/K, as in the stack's gcpkms:// secrets provider; ${example}`],
      ["gcpkms://projects/acme-prod/locations/global/keyRings/r/cryptoKeys/k", `must be projects/P/locations/L/keyRings/R/cryptoKeys/K, as in the stack's gcpkms:// secrets provider; ${example}`],
    ];
    for (const [value, reason] of refused) expect(errorLine({ "warmstart:secretsKmsKey": value }, configErrorLines), value).toBe(`warmstart:secretsKmsKey: ${reason}, got ${JSON.stringify(value)}`);
  });
});

describe("secret keys", () => {
  const key = async (value: string) => {
    const { parseConfig } = await freshConfigParsers();
    const models = parseConfig({ "warmstart:modelsAccessKey": value }).image.models;
    return new Promise<string>((resolve) => (models?.access === "header" ? models.key.apply(resolve) : resolve("no key")));
  };

  test("any printable ASCII, spaces only inside, surrounding whitespace dropped", async () => {
    for (const [value, expected] of [["k", "k"], ["a b", "a b"], ["!~", "!~"], [" \tk3y value\r\n", "k3y value"]]) expect(await key(value), JSON.stringify(value)).toBe(expected);
  });

  test("an empty key, or one of only whitespace, is refused as empty; a control character as not printable; neither printed", () => {
    for (const value of ["", " \n "]) expect(errorLine({ "warmstart:modelsAccessKey": value })).toBe("warmstart:modelsAccessKey: must not be empty, got [secret]");
    expect(errorLine({ "warmstart:modelsAccessKey": "key\u007f" })).toBe(
      "warmstart:modelsAccessKey: must be printable ASCII (letters, digits, punctuation; spaces only inside), as an HTTP header value must be; e.g. the output of openssl rand -hex 32, got [secret]",
    );
  });

  test("a secret stored in plain text is refused, whatever its value, and the error names the command that encrypts it", () => {
    expect(configErrorLines({}, { plainText: ["warmstart:modelsAccessKey"] })).toEqual([
      "warmstart:modelsAccessKey: is stored in plain text in the stack file; remove it and set it with pulumi config set --secret warmstart:modelsAccessKey <value>, got [secret]",
    ]);
  });

  test("a plain-text key that is not secret is fine", () => {
    expect(parseConfig({ "warmstart:maxInstances": "3" }, { plainText: ["warmstart:maxInstances", "gcp:project"] }).service.maxInstances).toBe(3);
  });
});

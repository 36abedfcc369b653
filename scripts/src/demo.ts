import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MedAIClient, type SubmissionInput } from '@medai-flow/client';
import type { JobRepresentation } from '@medai-flow/contracts';
import { type Stack, startStack } from './stack.js';
import { mintDevelopmentToken } from './token.js';

const USAGE = `Usage: pnpm demo [--json] [--output DIR]

Starts Redis (when REDIS_URL is unset), a worker and a gateway, submits a microscopy image to
nuclei-unet and a brain MRI to brain-gwm, waits for both, prints the results, writes the masks
to DIR (default .demo-output) and stops what it started. Exits 0 only if both jobs succeeded.

Environment:
  DEMO_DATA_DIR     folder with nuclei/dsb2018-nuclei.png and mri/t1-conformed.nii.gz (required)
  MODEL_MIRROR_DIR  local folder of <model>/model.onnx files; unset, the worker downloads them
  REDIS_URL         an existing Redis server to use instead of an embedded one`;

interface DemoCase {
  model: string;
  file: string;
  mediaType: SubmissionInput['mediaType'];
  maskFile: string;
}

const CASES: DemoCase[] = [
  {
    model: 'nuclei-unet',
    file: 'nuclei/dsb2018-nuclei.png',
    mediaType: 'image/png',
    maskFile: 'nuclei-unet-mask.png',
  },
  {
    model: 'brain-gwm',
    file: 'mri/t1-conformed.nii.gz',
    mediaType: 'application/x-nifti',
    maskFile: 'brain-gwm-labels.nii.gz',
  },
];

/** Report of one demo job. */
interface DemoJobReport {
  model: string;
  input: string;
  id: string;
  status: JobRepresentation['status'];
  modelSha256?: string;
  timings?: { queueMs: number; preprocessMs: number; inferenceMs: number };
  figures?: Record<string, number>;
  mask?: string;
  error?: string;
}

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    output: { type: 'string', default: '.demo-output' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

async function runDemo(): Promise<boolean> {
  const dataDir = process.env.DEMO_DATA_DIR;
  if (!dataDir)
    throw new Error('DEMO_DATA_DIR is not set: point it at the folder with nuclei/ and mri/ inputs');
  const missing = CASES.map((demoCase) => resolve(dataDir, demoCase.file)).filter(
    (path) => !existsSync(path),
  );
  if (missing.length > 0) throw new Error(`input files not found: ${missing.join(', ')}`);
  const outputDir = resolve(values.output);
  // With --json, stdout carries the JSON object alone, and progress goes to stderr.
  const say = values.json
    ? (line: string) => console.error(`- ${line}`)
    : (line: string) => console.log(`- ${line}`);

  const stack: Stack = await startStack({ gatewayPort: 0, logs: { folder: join(outputDir, 'logs') }, say });
  try {
    const token = await mintDevelopmentToken({ secret: stack.jwtSecret, subject: 'demo' });
    const client = new MedAIClient({ baseUrl: stack.gatewayUrl, token });
    say(`gateway at ${stack.gatewayUrl}; submitting ${CASES.length} jobs`);
    const submitted = await Promise.all(
      CASES.map(async (demoCase) => {
        const bytes = await readFile(resolve(dataDir, demoCase.file));
        const submission = await client.submit(demoCase.model, {
          mediaType: demoCase.mediaType,
          bytes,
        } as SubmissionInput);
        say(`${demoCase.model}: job ${submission.job.id} ${submission.job.status}`);
        return { demoCase, id: submission.job.id };
      }),
    );
    const reports: DemoJobReport[] = [];
    for (const { demoCase, id } of submitted) {
      const job = await client.waitForJob(id, { timeoutMs: 300_000, pollIntervalMs: 200 });
      reports.push(await reportJob(demoCase, job, outputDir));
    }
    const ok = reports.every((report) => report.status === 'succeeded');
    if (values.json) console.log(JSON.stringify({ ok, gateway: stack.gatewayUrl, jobs: reports }, null, 2));
    else printReports(reports, ok);
    return ok;
  } finally {
    await stack.stop();
  }
}

async function reportJob(
  demoCase: DemoCase,
  job: JobRepresentation,
  outputDir: string,
): Promise<DemoJobReport> {
  const report: DemoJobReport = {
    model: demoCase.model,
    input: demoCase.file,
    id: job.id,
    status: job.status,
  };
  if (job.error) report.error = `${job.error.title}: ${job.error.detail}`;
  const result = job.result;
  if (!result) return report;
  report.modelSha256 = result.model.sha256;
  const { queueMs, preprocessMs, inferenceMs } = result.timings;
  report.timings = {
    queueMs: Math.round(queueMs),
    preprocessMs: Math.round(preprocessMs),
    inferenceMs: Math.round(inferenceMs),
  };
  const segmentation = result.segmentation;
  if (!segmentation) return report;
  const figures: Record<string, number> = {};
  for (const stat of segmentation.stats) {
    if (stat.label === 'background') continue;
    if (stat.volumeMl !== undefined) figures[`${stat.label} mL`] = round(stat.volumeMl, 1);
    else figures[`${stat.label} %`] = round(stat.fraction * 100, 2);
  }
  report.figures = figures;
  const maskPath = join(outputDir, demoCase.maskFile);
  await writeFile(maskPath, Buffer.from(segmentation.mask.data, 'base64'));
  report.mask = relative(process.cwd(), maskPath);
  return report;
}

function printReports(reports: DemoJobReport[], ok: boolean): void {
  for (const report of reports) {
    console.log(`\n${report.model}  ${report.input}`);
    printField('job', report.id);
    printField('status', `${report.status}${report.error ? ` (${report.error})` : ''}`);
    if (report.modelSha256) printField('model sha256', report.modelSha256);
    if (report.timings) {
      const { queueMs, preprocessMs, inferenceMs } = report.timings;
      printField(
        'timings',
        `queue ${queueMs} ms, preprocess ${preprocessMs} ms, inference ${inferenceMs} ms`,
      );
    }
    for (const [name, value] of Object.entries(report.figures ?? {})) printField(name, String(value));
    if (report.mask) printField('mask', report.mask);
  }
  console.log(ok ? '\nall jobs succeeded' : '\nnot every job succeeded');
}

function printField(name: string, value: string): void {
  console.log(`  ${name.padEnd(18)}${value}`);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

if (values.help) {
  console.log(USAGE);
} else {
  runDemo()
    .then((ok) => {
      process.exitCode = ok ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
}

#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { type JobRepresentation, type Priority, PrioritySchema } from '@medai-flow/contracts';
import { MedAIClient, type SubmissionInput } from './client.js';
import { ApiError } from './errors.js';

const USAGE = `Usage: medai <command> [options]

Commands:
  models                         list the models that workers serve
  submit <model> <file>          submit a PNG, JPEG, DICOM (.dcm), NIfTI (.nii, .nii.gz) or v2 JSON file
  job <id>                       print a job
  wait <id>                      poll until the job ends, then print it
  cancel <id>                    cancel a queued or running job

Options:
  --url URL          gateway base URL (default: MEDAI_URL, else http://127.0.0.1:8080)
  --wait             with submit: poll until the job ends
  --priority CLASS   with submit: stat, urgent, routine (default) or batch
  --deadline SEC     with submit: seconds after which the job ends expired or cancelled
  --mask FILE        with submit --wait or wait: write the result mask to FILE

The bearer token comes from the MEDAI_TOKEN environment variable.`;

const MEDIA_TYPES: Record<string, SubmissionInput['mediaType']> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.dcm': 'application/dicom',
  '.nii': 'application/x-nifti',
  '.gz': 'application/x-nifti',
  '.json': 'application/json',
};

async function readSubmission(path: string): Promise<SubmissionInput> {
  const mediaType = MEDIA_TYPES[extname(path).toLowerCase()];
  if (!mediaType)
    throw new Error(`cannot tell the media type of ${path}: use .png, .jpg, .dcm, .nii, .nii.gz or .json`);
  const bytes = await readFile(path);
  if (mediaType !== 'application/json') return { mediaType, bytes };
  let body: { inputs?: unknown };
  try {
    body = JSON.parse(bytes.toString('utf8')) as { inputs?: unknown };
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(body.inputs)) throw new Error(`${path} has no "inputs" array of v2 tensors`);
  return { mediaType, inputs: body.inputs as never };
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      wait: { type: 'boolean', default: false },
      priority: { type: 'string' },
      deadline: { type: 'string' },
      mask: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const token = process.env.MEDAI_TOKEN;
  if (!token)
    throw new Error('MEDAI_TOKEN is not set: export a bearer token (pnpm token prints a development one)');
  const client = new MedAIClient({
    baseUrl: values.url ?? process.env.MEDAI_URL ?? 'http://127.0.0.1:8080',
    token,
  });

  let output: unknown;
  switch (command) {
    case 'models':
      output = await client.listModels();
      break;
    case 'submit': {
      const [model, file] = args;
      if (!model || !file) throw new Error('submit needs a model name and a file');
      const priority = parsePriority(values.priority);
      const submission = await client.submit(model, await readSubmission(file), {
        ...(priority ? { priority } : {}),
        ...(values.deadline ? { deadlineSeconds: Number(values.deadline) } : {}),
      });
      output = values.wait ? await client.waitForJob(submission.job.id) : submission.job;
      break;
    }
    case 'job':
      output = await client.getJob(requireId(args[0]));
      break;
    case 'wait':
      output = await client.waitForJob(requireId(args[0]));
      break;
    case 'cancel':
      output = await client.cancel(requireId(args[0]));
      break;
    default:
      throw new Error(`unknown command "${command}"; run medai --help`);
  }
  if (values.mask) output = await writeMask(output, values.mask);
  console.log(JSON.stringify(output, null, 2));
  const status = (output as { status?: string }).status;
  if (status === 'failed' || status === 'expired' || (status === 'cancelled' && command !== 'cancel')) {
    process.exitCode = 1;
  }
}

function parsePriority(text: string | undefined): Priority | undefined {
  if (text === undefined) return undefined;
  const parsed = PrioritySchema.safeParse(text);
  if (!parsed.success) throw new Error(`--priority must be stat, urgent, routine or batch, got "${text}"`);
  return parsed.data;
}

function requireId(id: string | undefined): string {
  if (!id) throw new Error('this command needs a job id');
  return id;
}

/** Writes the job's mask to `path` and returns the job with the mask data replaced by the path. */
async function writeMask(output: unknown, path: string): Promise<unknown> {
  const job = output as JobRepresentation;
  const mask = job.result?.segmentation?.mask;
  if (!mask) {
    const reason = job.error ? `${job.error.title}: ${job.error.detail}` : 'the model is not a segmentation';
    throw new Error(`job ${job.id} has no mask to write (status ${job.status}; ${reason})`);
  }
  await writeFile(path, Buffer.from(mask.data, 'base64'));
  const segmentation = { ...job.result?.segmentation, mask: { mediaType: mask.mediaType, file: path } };
  return { ...job, result: { ...job.result, segmentation } };
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ApiError) {
    console.error(`error: ${error.message}${error.requestId ? ` (request id ${error.requestId})` : ''}`);
  } else {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exitCode = 1;
});

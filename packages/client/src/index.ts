export {
  type ClientOptions,
  MedAIClient,
  type ModelSummary,
  type Submission,
  type SubmissionInput,
  type SubmitOptions,
  type WaitOptions,
} from './client.js';
export { ApiError, WaitTimeoutError } from './errors.js';

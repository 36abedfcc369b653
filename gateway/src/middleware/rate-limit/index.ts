export {
  type AddressLimitDeps,
  enforceLimit,
  type LimitPolicies,
  limitByAddress,
  limitPolicies,
} from './rate-limit.js';

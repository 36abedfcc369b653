export {
  type AddressLimitDeps,
  clientAddress,
  enforceLimit,
  type LimitPolicies,
  limitByAddress,
  limitPolicies,
} from './rate-limit.js';

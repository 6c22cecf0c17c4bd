export * from './messages.js';
export * from './codec.js';
export * from './topics.js';
export * from './json.js';
export * from './flash-budget.js';
export * from './text-bounds.js';

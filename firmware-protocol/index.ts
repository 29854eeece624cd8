// The contract with device vendors: topics, payload schemas and the decoder. Imports nothing of Anju's.
export * from './topics.ts';
export * from './schemas.ts';
export * from './decode.ts';

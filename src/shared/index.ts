export * from './contract';
export * from './domain';
export * from './errors';
export * from './links';
export * from './patterns';
export * from './separation';
export * from './listing';

// s3rver ships no types; this declares the part of its API the tests use.
declare module "s3rver" {
  /** Options of an s3rver instance. */
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  /** An in-process S3-speaking server for tests; it does not check signatures. */
  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Starts listening; resolves with the bound address. */
    run(): Promise<{ address: string; port: number }>;
    /** Stops listening. */
    close(): Promise<void>;
  }
}

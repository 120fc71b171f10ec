export declare const CONTAINER_ENTRY_POINTS: Record<string, string>;
export declare function bundleContainer(rootDir: string, outdir: string, entryPoints?: Record<string, string>): Promise<void>;

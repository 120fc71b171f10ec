import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "../../container/manifest";
import type { S3Access } from "../../container/presign";
import { manifestSourcesHash } from "../image/contentHash";

export interface ModelsSyncArgs {
  /**
   * The manifest's path relative to the project root (`warmstart:modelsManifest`): the sync reads it and writes sizes
   * and sha256 back into it.
   * @example "container/models.json"
   */
  readonly manifestPath: string;
  /** Its entries as read when the program started: their paths and sources decide when the sync runs again. */
  readonly manifest: Manifest;
  /** S3 credentials that may write the stack's bucket (ModelsBucket's write token), a secret. */
  readonly writeAccess: pulumi.Output<S3Access>;
  /**
   * A Hugging Face token for gated or private sources (`warmstart:huggingFaceToken`), a secret.
   * @default none: public sources only
   */
  readonly huggingFaceToken?: pulumi.Output<string>;
}

/** Single-quotes a word for sh. */
function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `npm run models:sync` as part of `pulumi up` (`warmstart:syncModelsOnDeploy`): it runs on the machine running
 * Pulumi whenever the manifest's paths or sources change, streams every source into the bucket (skipping what is
 * already there), and writes sizes and sha256 back into the manifest file. Its stdout is the synced manifest, which
 * the image build uses as is, so a checkout whose manifest was never committed after a sync still builds.
 */
export class ModelsSync extends pulumi.ComponentResource {
  /** The manifest after the sync, as JSON; what the image build stages as models.json. */
  public readonly syncedManifest: pulumi.Output<string>;

  constructor(name: string, args: ModelsSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("warmstart:models:ModelsSync", name, {}, opts);
    const access = args.writeAccess;
    const sync = new command.local.Command(
      `${name}-models-sync`,
      {
        create: `npm run --silent models:sync -- --manifest ${shellWord(args.manifestPath)} --print-manifest`,
        environment: {
          R2_ENDPOINT: access.endpoint,
          R2_BUCKET: access.bucket,
          R2_ACCESS_KEY_ID: access.accessKeyId,
          R2_SECRET_ACCESS_KEY: access.secretAccessKey,
          ...(args.huggingFaceToken ? { HF_TOKEN: args.huggingFaceToken } : {}),
        },
        // Sizes and sha256 are not in the trigger: the sync writes them, and that must not start another sync.
        triggers: [manifestSourcesHash(args.manifest.files)],
        // Progress goes to stderr and is worth seeing; stdout is the manifest, kept as an output.
        logging: "stderr",
      },
      { parent: this },
    );
    // The manifest holds no secret; the credentials in the environment must not make it look like one.
    this.syncedManifest = pulumi.unsecret(sync.stdout).apply((s) => s.trim());
    this.registerOutputs({ syncedManifest: this.syncedManifest });
  }
}

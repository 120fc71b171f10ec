// An S3-compatible server (s3rver) holding the files of a directory in one bucket, for the container test's
// presigned build. Usage: node test/support/s3Serve.mjs PORT DATA_DIR SOURCE_DIR BUCKET
// Prints "ready" once every file is uploaded; runs until killed. Access key and secret: S3RVER / S3RVER.
import * as fs from "node:fs";
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

const [port, dataDir, sourceDir, bucket] = process.argv.slice(2);
const server = new S3rver({ port: Number(port), address: "127.0.0.1", silent: true, directory: dataDir, configureBuckets: [{ name: bucket, configs: [] }] });
await server.run();
// Without WHEN_REQUIRED the SDK streams aws-chunked bodies with a CRC32 trailer, which s3rver stores verbatim.
const client = new S3Client({
  endpoint: `http://127.0.0.1:${port}`,
  region: "auto",
  forcePathStyle: true,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});
for (const rel of fs.readdirSync(sourceDir, { recursive: true }).map(String)) {
  const file = path.join(sourceDir, rel);
  if (!fs.statSync(file).isFile()) continue;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: rel.split(path.sep).join("/"), Body: fs.createReadStream(file), ContentLength: fs.statSync(file).size }));
}
console.log("ready");

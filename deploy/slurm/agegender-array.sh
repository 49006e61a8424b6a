#!/bin/bash
# agegender as a Slurm job array: task I of the array runs `batch --resume` on
# its shard (from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
# SLURM_ARRAY_TASK_COUNT, which agegender reads itself) and writes
# $OUTPUT/part-$SLURM_ARRAY_TASK_ID.jsonl. A requeued or rerun task resumes
# its part. Submit, then merge when every task has ended (deploy/README.md):
#
#   INPUT=/data/photos OUTPUT=/scratch/faces sbatch deploy/slurm/agegender-array.sh
#   agegender merge --out /scratch/faces/all.jsonl /scratch/faces/part-*.jsonl -- /data/photos
#
# INPUT may be a folder or an s3:// or gs:// prefix (credentials from the
# environment or ~/.aws, as for any AWS tool). cmd/agegender's
# TestDeployRecipes runs this script as N local processes with the Slurm
# variables set and checks that the parts add up to one run's output.
#SBATCH --job-name=agegender
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=2G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=agegender-%A_%a.log
set -euo pipefail
: "${INPUT:?set INPUT to the folder or s3:// prefix to process}"
: "${OUTPUT:?set OUTPUT to the folder or s3:// prefix for the parts}"
: "${SLURM_ARRAY_TASK_ID:?run this as a job array: sbatch --array=0-7 $0}"
AGEGENDER=${AGEGENDER:-agegender}
case $OUTPUT in
  s3://* | gs://*) ;;
  *) mkdir -p "$OUTPUT" ;;
esac
# One worker per allocated core (agegender would otherwise count the node's).
exec "$AGEGENDER" batch "$INPUT" --quiet --workers "${SLURM_CPUS_PER_TASK:-1}" \
  --resume --jsonl "$OUTPUT/part-$SLURM_ARRAY_TASK_ID.jsonl"

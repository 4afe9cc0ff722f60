"""Synthetic forum threads for the benchmark (bench/forums.py) and the distractors of the recall test:
questions in the vocabulary of the five courses, generated from a fixed seed, so every run searches the
same text. Word frequencies are skewed the way a course forum's are: a few words ("gradient", "error")
in a large share of posts, most in few.

`rows(...)` yields plain tuples; `load(...)` bulk-inserts them (PostgreSQL COPY-speed through
bulk_create) and rebuilds the search columns once at the end.
"""

from __future__ import annotations

import dataclasses
import datetime
import random

from django.db import transaction
from django.utils import timezone

from . import search
from .models import Post, PostKind, Thread, ThreadKind, Topic, Visibility

CONCEPTS = [
    "gradient descent", "learning rate", "cost function", "backpropagation", "forward propagation", "sigmoid",
    "relu", "tanh", "softmax", "logistic regression", "weight initialization", "bias term", "mini-batch",
    "momentum", "rmsprop", "adam", "batch normalization", "dropout", "l2 regularization", "early stopping",
    "vanishing gradients", "exploding gradients", "gradient checking", "hyperparameter search", "dev set",
    "test set", "training set", "bayes error", "human-level performance", "error analysis", "data mismatch",
    "transfer learning", "multi-task learning", "end-to-end learning", "convolution", "padding", "stride",
    "max pooling", "filter", "resnet", "skip connection", "inception module", "1x1 convolution", "vgg",
    "object detection", "bounding box", "anchor box", "non-max suppression", "yolo", "intersection over union",
    "face verification", "triplet loss", "siamese network", "style transfer", "gram matrix", "content cost",
    "recurrent neural network", "hidden state", "lstm", "gru", "gate", "bidirectional rnn", "language model",
    "word embedding", "word2vec", "glove", "negative sampling", "beam search", "bleu score", "attention",
    "self-attention", "multi-head attention", "transformer", "positional encoding", "encoder", "decoder",
    "embedding matrix", "one-hot vector", "numpy array", "broadcasting", "matrix multiplication", "vectorization",
    "activation", "cache", "parameters", "hidden layer", "output layer", "loss", "accuracy", "overfitting",
    "underfitting", "variance", "bias", "precision", "recall", "f1 score", "epoch", "iteration", "checkpoint",
]  # fmt: skip
RARE = [
    "hyperband", "cudnn", "xavier", "kaiming", "einsum", "strides", "dilated", "bfloat16", "tokenizer",
    "levenshtein", "perplexity", "teacher forcing", "label smoothing", "warmup", "mixup", "cutout", "focal loss",
    "gelu", "swish", "layernorm", "autograd", "jacobian", "hessian", "saddle point", "plateau", "cosine decay",
]  # fmt: skip
PROBLEMS = [
    "gives nan", "does not converge", "is much slower than expected", "returns the wrong shape",
    "fails the public test", "fails the hidden test", "oscillates", "gets stuck", "overfits the training set",
    "raises a ValueError", "raises an IndexError", "diverges after a few epochs", "stays at 50 percent accuracy",
    "produces all zeros", "has a shape mismatch", "behaves differently at test time", "uses too much memory",
]  # fmt: skip
TITLES = [
    "Why does my {a} {p}?",
    "{A} {p} in the week {w} assignment",
    "How is {a} related to {b}?",
    "Difference between {a} and {b}",
    "Confused about {a} in the lecture",
    "When should I use {a} instead of {b}?",
    "{A} and {b}: {p}",
    "Question about {a} and the {b}",
    "Intuition for {a}",
    "Is {a} needed when using {b}?",
]
SENTENCES = [
    "I implemented {a} as in the lecture but the {b} {p}.",
    "My {a} {p} when I combine it with {b}.",
    "I printed the shapes and the {a} looks right, so I think the problem is the {b}.",
    "Is it expected that {a} {p} for the first iterations?",
    "The notebook says to use {a}, but the video used {b}.",
    "I tried changing the {a} and the {b} but nothing helped.",
    "Can someone explain the intuition behind {a}?",
    "Thanks, that fixed the {a}; now the {b} {p}.",
    "You need to check the {a} first, then look at {b}.",
    "I had the same issue with {a}: it was a typo in the {b}.",
    "Try a smaller {a} and plot the {b} every hundred iterations.",
    "The derivative of the {a} is what the {b} uses in backprop.",
    "In the error message the {a} has shape (1, m) while the {b} has shape (m, 1).",
    "I read the paper on {a} but I still do not see why {b} matters.",
]
FIRST_NAMES = ["Priya", "Tomasz", "Amara", "Kenji", "Lucia", "Devansh", "Mei", "Omar", "Sofia", "Jonas", "Aisha", "Leo"]


def _zipf_choice(rng: random.Random, words: list[str]) -> str:
    # Rank r is picked with weight 1/r: the first words are common, the tail is rare.
    index = min(int(len(words) ** rng.random()) - 1, len(words) - 1)
    return words[max(index, 0)]


def _fill(rng: random.Random, template: str, week_count: int) -> str:
    a = _zipf_choice(rng, CONCEPTS)
    b = _zipf_choice(rng, CONCEPTS)
    if rng.random() < 0.004:  # each rare word ends up in about 0.2 % of threads
        b = rng.choice(RARE)
    text = template.format(a=a, A=a[:1].upper() + a[1:], b=b, p=rng.choice(PROBLEMS), w=rng.randint(1, week_count))
    return text


def title(rng: random.Random, week_count: int = 4) -> str:
    return _fill(rng, rng.choice(TITLES), week_count)[:200]


def body(rng: random.Random, sentences: tuple[int, int] = (2, 6), week_count: int = 4) -> str:
    return " ".join(_fill(rng, rng.choice(SENTENCES), week_count) for _ in range(rng.randint(*sentences)))


@dataclasses.dataclass(frozen=True)
class Loaded:
    threads: int
    posts: int


def load(
    *,
    topics: list[Topic],
    authors: list,
    threads: int,
    replies_per_thread: tuple[int, int] = (1, 5),
    seed: int = 12,
    now: datetime.datetime | None = None,
    batch: int = 5000,
) -> Loaded:
    """Insert `threads` synthetic threads spread over `topics` (any forums), each with an opening post and
    a random number of replies, dated over the last year; then index them all."""
    rng = random.Random(seed)
    now = now or timezone.now()
    posts_total = 0
    made = 0
    while made < threads:
        count = min(batch, threads - made)
        with transaction.atomic():
            new_threads = []
            for _ in range(count):
                topic = rng.choice(topics)
                created = now - datetime.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
                new_threads.append(
                    Thread(
                        forum_id=topic.forum_id,
                        topic=topic,
                        kind=ThreadKind.QUESTION if rng.random() < 0.85 else ThreadKind.DISCUSSION,
                        title=title(rng),
                        author=rng.choice(authors),
                        is_anonymous=rng.random() < 0.05,
                        week_number=topic.week_number,
                        item_id=topic.item_id,
                        state=Visibility.VISIBLE,
                        created_at=created,
                        last_activity_at=created,
                    )
                )
            Thread.objects.bulk_create(new_threads, batch_size=2000)
            posts = []
            for thread in new_threads:
                posts.append(
                    Post(
                        thread=thread,
                        kind=PostKind.OPENING,
                        author=thread.author,
                        is_anonymous=thread.is_anonymous,
                        body=body(rng),
                        body_html="",
                        created_at=thread.created_at,
                        published_at=thread.created_at,
                    )
                )
                replies = rng.randint(*replies_per_thread)
                at = thread.created_at
                for _ in range(replies):
                    at = at + datetime.timedelta(minutes=rng.randint(5, 3000))
                    posts.append(
                        Post(
                            thread=thread,
                            kind=PostKind.REPLY,
                            author=rng.choice(authors),
                            body=body(rng, (1, 4)),
                            body_html="",
                            created_at=at,
                            published_at=at,
                        )
                    )
                thread.reply_count = replies
                thread.last_activity_at = at
                if replies:
                    thread.first_response_at = thread.created_at + datetime.timedelta(minutes=rng.randint(5, 3000))
            for post in posts:
                post.body_html = f"<p>{post.body}</p>"  # plain sentences: no Markdown to render
            Post.objects.bulk_create(posts, batch_size=5000)
            Thread.objects.bulk_update(
                new_threads, ["reply_count", "last_activity_at", "first_response_at"], batch_size=2000
            )
        posts_total += len(posts)
        made += count
    search.remember_words(CONCEPTS + RARE + PROBLEMS + SENTENCES + TITLES)
    search.reindex_all()
    return Loaded(threads=made, posts=posts_total)

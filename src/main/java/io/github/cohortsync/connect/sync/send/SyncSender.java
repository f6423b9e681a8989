package io.github.cohortsync.connect.sync.send;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.CallGate;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.http.RetryPolicy;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.resilience4j.retry.event.RetryOnRetryEvent;

/**
 * Delivers one job at a time on its own thread, so the task thread never waits on the network. The pages of a diff
 * job (distinct members, so their order does not matter) go up to the {@link ConcurrencyLimit} at once (between 1 and
 * {@code maxInFlight}, adapted to the destination's answers unless fixed). In a snapshot job each session's page 1 goes
 * alone and first, its middle pages then go up to the limit at once, and its last page goes alone once all the others
 * were delivered, so a receiver that replaces its copy on page 1 and completes it on the last page still works;
 * sessions go one after the other. With {@code maxInFlight} 1 every page goes alone, in order. Each page gets the
 * retry policy's bounded retries and no more: a job whose retries run out ends as {@link GaveUp}, and whoever
 * submitted it decides when to submit it again (only its undelivered pages go then). A job starts only after the
 * previous one ended. When an answer asks to wait ({@code Retry-After} on a 429 or a 503), no page of any job of this
 * sender starts a call until that wait is over ({@link RateLimitHold}); with a {@link RequestRate} no call starts
 * before its turn. {@link CallPacing} keeps the hold, the rate and the limit.
 */
public final class SyncSender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SyncSender.class);
    /**
     * Where an adaptive limit starts: the fixed number of pages in flight the SaaS destinations had before the limit
     * adapted, so a task's first syncs behave as they did; it grows from there within a few round trips.
     */
    public static final int DEFAULT_INITIAL_IN_FLIGHT = 4;

    /** How a job ended. */
    public sealed interface Outcome {
        SyncJob job();
    }

    /** Every page delivered. */
    public record Delivered(SyncJob job) implements Outcome {
    }

    /** A page failed permanently; the pages before it stay delivered. */
    public record Failed(SyncJob job, PermanentDeliveryException cause) implements Outcome {
    }

    /** Stopped on request before every page was delivered. */
    public record Cancelled(SyncJob job) implements Outcome {
    }

    /** A page's retries ran out on a transient failure; the pages delivered stay delivered. */
    public record GaveUp(SyncJob job, TransientDeliveryException cause) implements Outcome {
    }

    /** How a sender is built: a destination and a retry policy, with optional parts. */
    public static final class Builder {
        private final String name;
        private final Destination destination;
        private final RetryPolicy retryPolicy;
        private final SyncStats stats;
        private DeliveryListener listener = DeliveryListener.NONE;
        private int maxInFlight = 1;
        private boolean adaptive;
        private int initialInFlight = DEFAULT_INITIAL_IN_FLIGHT;
        private double requestsPerSecond;

        private Builder(String name, Destination destination, RetryPolicy retryPolicy, SyncStats stats) {
            this.name = name;
            this.destination = destination;
            this.retryPolicy = retryPolicy;
            this.stats = stats;
        }

        /** Told of each delivered page before the job counts it as delivered (the delivery journal). */
        public Builder listener(DeliveryListener listener) {
            this.listener = listener;
            return this;
        }

        /** The most pages sent at once (the cap of the adaptive limit); 1 (one page at a time) by default. */
        public Builder maxInFlight(int maxInFlight) {
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
            }
            this.maxInFlight = maxInFlight;
            return this;
        }

        /**
         * True: the pages in flight adapt between 1 and {@code maxInFlight}, starting at {@code initialInFlight};
         * false (the default): always {@code maxInFlight}.
         */
        public Builder adaptive(boolean adaptive, int initialInFlight) {
            this.adaptive = adaptive;
            this.initialInFlight = initialInFlight;
            return this;
        }

        /** At most this many calls a second, evenly spaced; 0 (the default) means no cap. */
        public Builder requestsPerSecond(double requestsPerSecond) {
            this.requestsPerSecond = requestsPerSecond;
            return this;
        }

        public SyncSender build() {
            return new SyncSender(this);
        }
    }

    private final Destination destination;
    private final RetryPolicy retryPolicy;
    private final ExecutorService executor;
    private final SyncStats stats;
    private final DeliveryListener listener;
    /** Sends the pages of diff jobs when more than one may be in flight; null otherwise. */
    private final ExecutorService pageSenders;
    /** The page senders busy with a page, interrupted on cancel. */
    private final Set<Thread> pageThreads = ConcurrentHashMap.newKeySet();
    /** The threads waiting out a retry's backoff, interrupted by a wrap-up; guarded by itself. */
    private final Set<Thread> backingOff = new HashSet<>();
    /** When each call may go, and what its answer does to the hold, the rate and the limit. */
    private final CallPacing pacing;
    /** The lines saying a 429 is retried: at most one a minute. */
    private final LogThrottle rateLimitedRetryLines = new LogThrottle(1, TimeUnit.MINUTES, System::nanoTime);
    private CompletableFuture<Outcome> inFlight;
    private volatile boolean cancelled;
    /** The job in flight is being wrapped up: no new call starts, the calls on the wire end ({@link #wrapUp}). */
    private volatile boolean wrappingUp;
    private volatile Thread worker;

    /** A sender named {@code name} (its threads' names) that sends through {@code destination}. */
    public static Builder builder(String name, Destination destination, RetryPolicy retryPolicy, SyncStats stats) {
        return new Builder(name, destination, retryPolicy, stats);
    }

    private SyncSender(Builder builder) {
        String name = builder.name;
        DeliveryListener listener = builder.listener;
        int maxInFlight = builder.maxInFlight;
        RetryPolicy retryPolicy = builder.retryPolicy;
        SyncStats stats = builder.stats;
        this.listener = listener;
        if (maxInFlight > 1) {
            AtomicInteger number = new AtomicInteger();
            this.pageSenders = Executors.newFixedThreadPool(maxInFlight, runnable -> {
                Thread thread = new Thread(runnable, name + "-page-" + number.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        } else {
            this.pageSenders = null;
        }
        this.destination = builder.destination;
        this.retryPolicy = retryPolicy;
        this.stats = stats;
        this.pacing = new CallPacing(new RateLimitHold(stats.rateLimitHeldMs),
                RequestRate.perSecond(name, builder.requestsPerSecond),
                new ConcurrencyLimit(maxInFlight, builder.initialInFlight, builder.adaptive, System::nanoTime),
                stats, log, this::stopping);
        this.executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        });
        retryPolicy.retry().getEventPublisher().onRetry(this::onRetry);
    }

    /** Counts a retry and logs it; the retries after a 429 at most one line a minute. */
    private void onRetry(RetryOnRetryEvent event) {
        // Published on the page's thread just before the backoff: a wrap-up cuts that wait short.
        synchronized (backingOff) {
            backingOff.add(Thread.currentThread());
            if (wrappingUp) {
                Thread.currentThread().interrupt();
            }
        }
        stats.retries.incrementAndGet();
        Throwable last = event.getLastThrowable();
        String why = last == null ? "" : last.getMessage();
        if (last instanceof TransientDeliveryException t && t.status() == 429) {
            // Every page in flight may be answered 429 at once: one line a minute (JMX RateLimitedAnswers counts).
            long retries = rateLimitedRetryLines.event();
            if (retries > 0) {
                log.info("Retrying in {} ms (retry {} of {}; {} retries after HTTP 429 since the last such line): {}",
                        event.getWaitInterval().toMillis(), event.getNumberOfRetryAttempts(),
                        retryPolicy.maxRetries(), retries, why);
            }
            return;
        }
        log.info("Retrying in {} ms (retry {} of {}): {}", event.getWaitInterval().toMillis(),
                event.getNumberOfRetryAttempts(), retryPolicy.maxRetries(), why);
    }

    /** True while a job is being delivered. */
    public boolean isBusy() {
        return inFlight != null && !inFlight.isDone();
    }

    /**
     * True when no job is in flight and the last one's outcome was taken. A job that ended since the last
     * {@link #takeOutcome} leaves the sender not busy but not idle: submitting then would drop that outcome.
     */
    public boolean isIdle() {
        return inFlight == null;
    }

    /** Starts delivering a job; the sender must not be busy (a finished job's outcome not taken is lost). */
    public void submit(SyncJob job) {
        if (isBusy()) {
            throw new IllegalStateException("A sync is already in flight");
        }
        cancelled = false;
        wrappingUp = false;
        inFlight = CompletableFuture.supplyAsync(() -> deliver(job), executor);
    }

    /** The finished job's outcome, once; empty while it runs or when nothing was submitted. */
    public Optional<Outcome> takeOutcome() {
        if (inFlight == null || !inFlight.isDone()) {
            return Optional.empty();
        }
        Outcome outcome = inFlight.join();
        inFlight = null;
        return Optional.of(outcome);
    }

    /** Waits up to {@code timeout} for the job in flight to finish; true when the sender is idle. */
    public boolean awaitIdle(Duration timeout) {
        if (inFlight == null) {
            return true;
        }
        try {
            inFlight.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /**
     * Asks the job in flight to start no new call (no page, retry or split part) and waits up to {@code timeout} for
     * the calls already on the wire to end. What they deliver counts; the job ends {@link Cancelled} with its other
     * pages undelivered, or {@link Delivered} when none was left. True when it ended in time; else {@link #cancel}.
     * A page waiting out a {@code Retry-After} hold stops waiting; one in a retry's backoff ends when the backoff does.
     */
    public boolean wrapUp(Duration timeout) {
        if (!isBusy()) {
            return true;
        }
        wrappingUp = true;
        pacing.stopWaiting();
        synchronized (backingOff) {
            backingOff.forEach(Thread::interrupt);
        }
        return awaitIdle(timeout);
    }

    /** True once the job in flight was cancelled or is being wrapped up: no call of it may start. */
    private boolean stopping() {
        return cancelled || wrappingUp;
    }

    /** Asks the job in flight to stop: aborts its call and its waits, and waits up to {@code timeout} for it. */
    public boolean cancel(Duration timeout) {
        if (!isBusy()) {
            return true;
        }
        cancelled = true;
        destination.cancelInFlight();
        Thread running = worker;
        if (running != null) {
            running.interrupt();
        }
        // Aborts their retry waits; the worker waits for each of them to end before the job counts as cancelled.
        pageThreads.forEach(Thread::interrupt);
        return awaitIdle(timeout);
    }

    /** Sends the job's undelivered pages once, each with the retry policy's bounded retries. */
    private Outcome deliver(SyncJob job) {
        worker = Thread.currentThread();
        try {
            if (pageSenders != null) {
                for (List<Integer> run : runs(job)) {
                    sendConcurrently(job, run);
                }
            } else {
                for (int i = 0; i < job.pages().size(); i++) {
                    if (job.isDelivered(i)) {
                        continue;
                    }
                    if (stopping()) {
                        return new Cancelled(job);
                    }
                    send(job, i);
                }
            }
            return new Delivered(job);
        } catch (PermanentDeliveryException e) {
            stats.failures.incrementAndGet();
            return new Failed(job, e);
        } catch (TransientDeliveryException e) {
            if (stopping()) {
                return new Cancelled(job);
            }
            stats.failedSyncs.incrementAndGet();
            return new GaveUp(job, e);
        } catch (InterruptedException e) {
            return new Cancelled(job);
        } catch (Exception e) {
            // Also a CancellationException: a page that was waiting for its turn when the job was wrapped up.
            if (stopping()) {
                return new Cancelled(job);
            }
            stats.failures.incrementAndGet();
            PermanentDeliveryException failure = new PermanentDeliveryException("Unexpected error while syncing: " + e);
            failure.initCause(e);
            return new Failed(job, failure);
        } finally {
            worker = null;
            // A cancelled call leaves the interrupt flag set; the pooled thread must start its next job clean.
            Thread.interrupted();
        }
    }

    /**
     * Sends one page with retries and records it: the one place a page counts as delivered, right after the
     * destination accepted it.
     */
    private void send(SyncJob job, int i) throws Exception {
        Page page = job.pages().get(i);
        AtomicInteger attempts = new AtomicInteger();
        DeliveryResult result;
        try {
            result = retryPolicy.call(() -> {
                leftBackoff();
                if (stopping()) {
                    // Not a transient failure, so the retry policy gives up at once.
                    throw new CancellationException();
                }
                ConcurrencyLimit.Call call = pacing.awaitTurn();
                attempts.incrementAndGet();
                return pacing.measure(call, page, () -> destination.send(page));
            });
        } finally {
            leftBackoff();
        }
        int members = page.members().size();
        stats.pageDelivered(page.action() == PageAction.ADD_MEMBERS ? members : 0,
                page.action() == PageAction.REMOVE_MEMBERS ? members : 0,
                page.action() == PageAction.MEMBERS ? members : 0, result.rejections().size());
        listener.delivered(job, page, result.rejections(), attempts.get());
        job.markDelivered(i, result.rejections());
    }

    /** What a call that a destination wrapper adds to a try (a split's part) waits for: the hold and the rate. */
    public CallGate extraCallGate() {
        return pacing.extraCallGate();
    }

    /** How one page sent by a page sender ended: {@code failure} is null when it was delivered. */
    private record PageDone(int page, Throwable failure) {
    }

    /**
     * The job's undelivered pages as runs that go one after the other, the pages of one run at once (up to the limit).
     * A diff job is one run. In a snapshot job, a session's page 1 and its last page are runs of their own, and the
     * middle pages of a session between them one run: page 1 is delivered before any other page of its session, and
     * the last page only after all the others.
     */
    static List<List<Integer>> runs(SyncJob job) {
        List<List<Integer>> runs = new ArrayList<>();
        List<Integer> run = new ArrayList<>();
        String runSession = null;
        for (int i = 0; i < job.pages().size(); i++) {
            if (job.isDelivered(i)) {
                continue;
            }
            Page page = job.pages().get(i);
            boolean alone = !job.isDiff() && (page.pageNumber() <= 1 || page.pageNumber() >= page.totalPages());
            boolean sameRun = job.isDiff() || (!alone && page.sessionId().equals(runSession));
            if (!sameRun && !run.isEmpty()) {
                runs.add(run);
                run = new ArrayList<>();
            }
            run.add(i);
            runSession = alone ? null : page.sessionId();
            if (alone) {
                runs.add(run);
                run = new ArrayList<>();
            }
        }
        if (!run.isEmpty()) {
            runs.add(run);
        }
        return runs;
    }

    /** This thread's retry backoff is over (or never began): a wrap-up no longer interrupts it. */
    private void leftBackoff() {
        synchronized (backingOff) {
            backingOff.remove(Thread.currentThread());
        }
    }

    /**
     * Sends the given undelivered pages of the job up to the limit at once. After a failure no new page starts; the
     * pages in flight are always waited for (also when cancelled), so nothing of this job is sent once it ended.
     * Then throws what ended it: a permanent failure first, then cancellation (or a wrap-up that left pages
     * undelivered), then a transient or unexpected one.
     */
    private void sendConcurrently(SyncJob job, List<Integer> pending) throws Exception {
        if (stopping()) {
            throw new InterruptedException("cancelled");
        }
        BlockingQueue<PageDone> done = new LinkedBlockingQueue<>();
        int next = 0;
        int running = 0;
        PermanentDeliveryException permanent = null;
        Throwable other = null;
        boolean interrupted = false;
        while (next < pending.size() || running > 0) {
            while (running < pacing.limit() && next < pending.size() && permanent == null && other == null
                    && !stopping() && !interrupted) {
                int page = pending.get(next);
                try {
                    pageSenders.execute(() -> sendOnPageSender(job, page, done));
                } catch (RejectedExecutionException e) {
                    // The sender is closing: start nothing more, but still wait for the pages in flight.
                    other = e;
                    break;
                }
                next++;
                running++;
            }
            if (running == 0) {
                break;
            }
            PageDone ended;
            try {
                ended = done.take();
            } catch (InterruptedException e) {
                // Cancelled: the pages in flight were aborted too; wait for them regardless.
                interrupted = true;
                continue;
            }
            running--;
            if (ended.failure() instanceof PermanentDeliveryException failure) {
                permanent = permanent == null ? failure : permanent;
            } else if (ended.failure() != null && other == null) {
                other = ended.failure();
            }
        }
        if (permanent != null) {
            throw permanent;
        }
        if (cancelled || interrupted) {
            throw new InterruptedException("cancelled");
        }
        if (wrappingUp && pending.stream().anyMatch(i -> !job.isDelivered(i))) {
            // The pages that were waiting for their turn ended with a CancellationException: not a failure.
            throw new InterruptedException("wrapped up");
        }
        if (other instanceof Exception exception) {
            throw exception;
        }
        if (other instanceof Error error) {
            throw error;
        }
    }

    private void sendOnPageSender(SyncJob job, int page, BlockingQueue<PageDone> done) {
        Thread self = Thread.currentThread();
        pageThreads.add(self);
        Throwable failure = null;
        try {
            if (stopping()) {
                throw new CancellationException();
            }
            send(job, page);
        } catch (Throwable t) {
            failure = t;
        } finally {
            pageThreads.remove(self);
            // A cancel may have interrupted this thread; its next page must start clean.
            Thread.interrupted();
            done.add(new PageDone(page, failure));
        }
    }

    @Override
    public void close() {
        cancel(Duration.ofSeconds(5));
        executor.shutdownNow();
        if (pageSenders != null) {
            pageSenders.shutdownNow();
        }
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
            if (pageSenders != null) {
                pageSenders.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        destination.close();
    }
}

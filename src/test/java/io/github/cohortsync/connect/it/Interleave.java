package io.github.cohortsync.connect.it;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Mixes several ordered streams of records into one, randomly but reproducibly, keeping each stream's order. */
final class Interleave {
    private Interleave() {
    }

    @SafeVarargs
    static List<MembershipRecord> randomly(long seed, List<MembershipRecord>... streams) {
        Random random = new Random(seed);
        List<List<MembershipRecord>> open = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        for (List<MembershipRecord> stream : streams) {
            if (!stream.isEmpty()) {
                open.add(stream);
                positions.add(0);
            }
        }
        List<MembershipRecord> out = new ArrayList<>();
        while (!open.isEmpty()) {
            int lane = random.nextInt(open.size());
            int position = positions.get(lane);
            out.add(open.get(lane).get(position));
            if (position + 1 == open.get(lane).size()) {
                open.remove(lane);
                positions.remove(lane);
            } else {
                positions.set(lane, position + 1);
            }
        }
        return out;
    }
}

package io.streamrank.leaderboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.streamrank.skiplist.Node;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UserIndexTest {
    @Test
    void randomAddsAndRemovesAgreeWithHashMap() {
        Random rnd = new Random(3);
        UserIndex index = new UserIndex();
        Map<String, Node> model = new HashMap<>();
        for (int step = 0; step < 200_000; step++) {
            // Ids with colliding hash codes ("Aa" and "BB" hash alike) stress the probing.
            String id = rnd.nextInt(4) == 0 ? ("Aa".repeat(rnd.nextInt(3)) + "BB".repeat(rnd.nextInt(3)) + rnd.nextInt(50))
                    : "user" + rnd.nextInt(5000);
            if (rnd.nextInt(3) == 0) {
                assertSame(model.remove(id), index.remove(id));
            } else if (!model.containsKey(id)) {
                Node n = new Node(id, 0, 0, 1);
                index.add(n);
                model.put(id, n);
            } else {
                assertSame(model.get(id), index.get(id));
            }
            assertEquals(model.size(), index.size());
        }
        for (Map.Entry<String, Node> e : model.entrySet()) {
            assertSame(e.getValue(), index.get(e.getKey()));
        }
        assertNull(index.get("absent"));
        assertNull(index.remove("absent"));
    }
}

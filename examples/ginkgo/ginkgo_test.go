package ginkgo_test

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/dcheck/dcheck/checks"
	"github.com/dcheck/dcheck/suites"
)

func TestMyDaemon(t *testing.T) {
	RegisterFailHandler(Fail)
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // the daemon may run as another user
	bin = filepath.Join(dir, "mydaemon")
	if out, err := exec.Command("go", "build", "-o", bin, "../mydaemon").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The conformance specs, in this tree: Register before RunSpecs.
	pidfile := filepath.Join(dir, "conformance.pid")
	cfg := suites.NewConfig()
	cfg.Start = []string{bin, "start", "-pidfile", pidfile, "-socket", filepath.Join(dir, "conformance.sock")}
	cfg.PidFile = pidfile
	cfg.Stop = bin + " stop -pidfile " + pidfile
	suites.Register(cfg)
	RunSpecs(t, "mydaemon")
}

// bin is mydaemon, built by TestMyDaemon.
var bin string

// The project's own specs: start the daemon, use it, judge it.
var _ = Describe("mydaemon", Ordered, func() {
	var dir, pidfile, socket string
	var pid int
	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		os.Chmod(dir, 0o755)
		pidfile, socket = filepath.Join(dir, "d.pid"), filepath.Join(dir, "d.sock")
		out, err := exec.Command(bin, "start", "-pidfile", pidfile, "-socket", socket).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		data, err := os.ReadFile(pidfile)
		Expect(err).NotTo(HaveOccurred())
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			out, err := exec.Command(bin, "stop", "-pidfile", pidfile).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
		})
	})

	It("answers on its socket as soon as start returns", func() {
		c, err := net.Dial("unix", socket)
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		Expect(bufio.NewReader(c).ReadString('\n')).To(Equal("pong\n"))
	})

	It("is a correct daemon", func() {
		// No Reaper: BeDaemon finds it (this process once Register's specs
		// have made it a subreaper, else init), in whichever order the
		// containers run.
		Expect(pid).To(suites.BeDaemon(checks.Policy{PidFile: pidfile}))
	})

	It("does not lead its session", func() {
		Expect(pid).To(suites.PassRule("DC103", checks.Policy{}))
	})
})

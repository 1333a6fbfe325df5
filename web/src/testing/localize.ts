import '@angular/localize/init';
